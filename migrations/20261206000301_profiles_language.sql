-- The language Telegram reports for an account (`language_code`), seen on its activity in a
-- group or channel: notifications use it for members who never wrote to the bot.
ALTER TABLE profiles ADD COLUMN language_code text;
