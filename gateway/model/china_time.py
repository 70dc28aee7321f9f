"""Beijing time, as a fact the whole gateway shares.

China keeps one time zone, UTC+8, with no daylight saving: a fapiao's issue time and a tax
platform's timestamps are in it, the export ledger and the Provisions count their years from
1 January in it, and the seller's finance team reads times in it.
"""

from __future__ import annotations

import datetime as dt

CHINA_TIME = dt.timezone(dt.timedelta(hours=8))
"""UTC+8 (China Standard Time)."""
