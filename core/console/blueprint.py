"""The console's blueprint: every route needs a staff login of the current business."""

from core.plugins.blueprints import staff_blueprint

bp = staff_blueprint("console", __name__, url_prefix="/console")
