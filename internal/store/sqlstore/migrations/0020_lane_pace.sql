-- An app's call rate, kept with its lane (issue 17): with an auto budget the
-- rate is found by trial, and it must be one per app across a fleet, so a
-- new holder of the lane starts from it and every process can show it. JSON
-- of store.Pace; '' until a holder saves one.
ALTER TABLE app_lanes ADD COLUMN pace TEXT NOT NULL DEFAULT '';
