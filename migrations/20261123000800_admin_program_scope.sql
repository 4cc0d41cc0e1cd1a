-- Which programs a manager or auditor account may see and change; NULL means every program.
-- Admins manage accounts and programs, so an admin account is never limited.
ALTER TABLE admin_users ADD COLUMN programs uuid[];
ALTER TABLE admin_users ADD CONSTRAINT admin_users_admins_see_everything
    CHECK (role <> 'admin' OR programs IS NULL);
