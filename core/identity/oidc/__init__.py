"""Core as an OpenID Connect provider for the customer realm (Authlib's authorization server).

Each business is its own issuer (its public address), with its own signing keys (:mod:`.keys`) and
clients (:mod:`.clients`); :mod:`.server` holds the Authlib grants, :mod:`.views` the endpoints,
:mod:`.backchannel` tells clients when a customer signs out.
"""
