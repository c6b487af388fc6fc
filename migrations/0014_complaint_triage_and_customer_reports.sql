-- More of a case's life (feedback/service.py). Owned by feedback/.
-- An open case can be put in another category or priority; its history records each such change.
ALTER TABLE complaint_events DROP CONSTRAINT complaint_events_kind_check;
ALTER TABLE complaint_events ADD CONSTRAINT complaint_events_kind_check
    CHECK (kind IN ('opened', 'commented', 'status_changed', 'assigned', 'outcome_set', 'subscriber_merged',
                    'triaged'));
-- A customer reports a problem from the customer page or a rating link; a walk-in customer has no record to name,
-- so a customer's entry may carry no id (staff always do, the system never does).
ALTER TABLE complaint_events DROP CONSTRAINT complaint_events_check;
ALTER TABLE complaint_events ADD CONSTRAINT complaint_events_actor_check
    CHECK (CASE actor_kind WHEN 'staff' THEN actor_id IS NOT NULL WHEN 'system' THEN actor_id IS NULL ELSE true END);
