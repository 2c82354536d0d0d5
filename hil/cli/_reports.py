"""`hil reports PATH`: parse Vivado / Vitis HLS tool reports (filled in by the report-parser work)."""
