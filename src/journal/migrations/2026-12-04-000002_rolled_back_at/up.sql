-- When a run was rolled back, apart from when it finished: `decant status` shows the run's own
-- finish time. Runs rolled back before this migration had `finished_at` overwritten by the
-- rollback; their run's finish time is lost, so theirs is taken as the rollback's time.
ALTER TABLE decant.runs ADD COLUMN rolled_back_at timestamptz;
UPDATE decant.runs SET rolled_back_at = finished_at WHERE status = 'rolled_back';
