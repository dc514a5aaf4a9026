"""Human review: routing doubtful detections to a reviewer queue, the queue itself, learning from the verdicts and
measuring production accuracy.

- `policy`: the routing policy of a project or model version (validation and storage only).
- `routing`: the decision for one DetectAnomalies result and the task it creates; called by the hosting domain.
- `media`: where a task's image, anomaly map and masks live in storage, heatmaps, and their retention.
- `tasks`: the queue (PENDING -> CLAIMED -> COMPLETED, EXPIRED), leases and the audit trail.
- `learning`: AddReviewsToDataset.
- `statistics`: DescribeReviewStatistics, with production precision and recall from the random-sample audits.

Every state change of a task is a conditional UPDATE (`... WHERE status = :expected`), so two reviewers never hold
the same task and a late call never overwrites a newer decision. Nothing here raises anything but `service.errors`.
"""
