"""SOC status reports from the partner (R-PTN-1, Tariff ※1 ※2)."""
