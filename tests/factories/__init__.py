"""factory_boy factories shared by the whole suite, one module per app."""

from tests.factories.inventory import *  # noqa: F401,F403
from tests.factories.orders import *  # noqa: F401,F403
from tests.factories.platform import *  # noqa: F401,F403
from tests.factories.quality import *  # noqa: F401,F403
