-- A case can be put in another category or priority while it is open (feedback/service.py triage); its history
-- records each such change. Owned by feedback/.
ALTER TABLE complaint_events DROP CONSTRAINT complaint_events_kind_check;
ALTER TABLE complaint_events ADD CONSTRAINT complaint_events_kind_check
    CHECK (kind IN ('opened', 'commented', 'status_changed', 'assigned', 'outcome_set', 'subscriber_merged',
                    'triaged'));
