-- The engine's log actions no longer name the app's kind: dropbox.create
-- becomes account.create, dropbox.group.add_members app_group.add_members.
UPDATE audit_log SET action = 'app_group.' || substr(action, 15) WHERE action LIKE 'dropbox.group.%';
UPDATE audit_log SET action = 'account.' || substr(action, 9) WHERE action LIKE 'dropbox.%';
