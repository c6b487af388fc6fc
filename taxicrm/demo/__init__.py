"""`taxicrm demo`: the service with a seeded Tehran and simulated drivers, callers and operators."""
