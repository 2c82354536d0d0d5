"""`hil costmodel ...`: calibrate and check the analytic cost model (filled in by the cost-model work)."""

from __future__ import annotations
