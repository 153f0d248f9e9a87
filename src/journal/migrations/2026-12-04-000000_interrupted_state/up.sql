-- A run or step stopped by SIGINT/SIGTERM is `interrupted`: resumable, and not a failure.
ALTER TABLE decant.runs DROP CONSTRAINT runs_status_check;
ALTER TABLE decant.runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted', 'rolled_back'));
ALTER TABLE decant.steps DROP CONSTRAINT steps_state_check;
ALTER TABLE decant.steps ADD CONSTRAINT steps_state_check
    CHECK (state IN ('running', 'done', 'failed', 'interrupted'));
