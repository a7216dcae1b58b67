# English pages keep the Indonesian conventions for dates and rupiah: the figures must read the same
# whichever language a reviewer picks.
from institutions.formats.id.formats import *  # noqa: F403
