"""The calibration corpus under fixtures/ is data to assess, not tests to collect."""

collect_ignore_glob = ["fixtures/*"]
