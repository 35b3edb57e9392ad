"""The planner's admin for the orders app, one module per concept."""

from orders.admin import execution, product, work_centers, work_orders  # noqa: F401  (registers the model admins)
from orders.admin import scheduling  # noqa: F401
