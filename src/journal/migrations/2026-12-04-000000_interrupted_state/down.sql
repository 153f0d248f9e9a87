UPDATE decant.runs SET status = 'failed' WHERE status = 'interrupted';
UPDATE decant.steps SET state = 'failed' WHERE state = 'interrupted';
ALTER TABLE decant.runs DROP CONSTRAINT runs_status_check;
ALTER TABLE decant.runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'rolled_back'));
ALTER TABLE decant.steps DROP CONSTRAINT steps_state_check;
ALTER TABLE decant.steps ADD CONSTRAINT steps_state_check
    CHECK (state IN ('running', 'done', 'failed'));
