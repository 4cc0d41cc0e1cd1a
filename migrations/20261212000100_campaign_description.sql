-- What a campaign tells members in the Mini App, in the manager's words (CampaignCreated's
-- additive `description`); NULL for campaigns created without one.
ALTER TABLE campaigns ADD COLUMN description text;
