-- The public keys ("e n") by user name a build was made with, as the
-- XML-RPC API's build_installers names them; {} for uploads of a file.
ALTER TABLE builds ADD COLUMN keys jsonb NOT NULL DEFAULT '{}'::jsonb;
