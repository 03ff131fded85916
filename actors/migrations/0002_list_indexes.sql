-- Lists filtered by status and type together (the dashboard's and `ktrdr operations list`'s
-- common case), in list order, without scanning one filter's rows for the other.
CREATE INDEX IF NOT EXISTS operations_by_status_type
    ON operations (status, operation_type, created_at, operation_id);
CREATE INDEX IF NOT EXISTS operations_by_type_created
    ON operations (operation_type, created_at, operation_id);
DROP INDEX IF EXISTS operations_by_type;
