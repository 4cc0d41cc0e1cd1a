//! Everything the bot says, in Russian (complete, the default) and English. Plain text only:
//! messages go without `parse_mode`, so names and reasons never need escaping.

use domain::event::ReversalReason;
use domain::network::{ActivityKind, Network};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ru,
    En,
}

impl Lang {
    /// Russian for `ru` and when Telegram does not say; English for every other language.
    pub fn from_code(code: Option<&str>) -> Lang {
        match code.map(|c| c.trim().to_ascii_lowercase()) {
            None => Lang::Ru,
            Some(c) if c.is_empty() || c == "ru" || c.starts_with("ru-") => Lang::Ru,
            Some(_) => Lang::En,
        }
    }
}

/// `10 баллов`, `1 балл`, `3 балла` / `10 points`, `1 point`; the sign is the caller's.
pub fn points(lang: Lang, n: i64) -> String {
    let abs = n.unsigned_abs();
    let word = match lang {
        Lang::Ru => match (abs % 10, abs % 100) {
            (1, m) if m != 11 => "балл",
            (2..=4, m) if !(12..=14).contains(&m) => "балла",
            _ => "баллов",
        },
        Lang::En if abs == 1 => "point",
        Lang::En => "points",
    };
    format!("{n} {word}")
}

/// `+10 баллов` / `−5 points` (a true minus sign).
pub fn signed_points(lang: Lang, n: i64) -> String {
    let sign = if n < 0 { "−" } else { "+" };
    format!("{sign}{}", points(lang, n.abs()))
}

pub fn network(lang: Lang, network: Network) -> &'static str {
    match (lang, network) {
        (_, Network::Instagram) => "Instagram",
        (Lang::Ru, Network::Vk) => "ВКонтакте",
        (Lang::En, Network::Vk) => "VK",
        (_, Network::Telegram) => "Telegram",
    }
}

pub fn activity(lang: Lang, kind: ActivityKind) -> &'static str {
    use ActivityKind::*;
    match (lang, kind) {
        (Lang::Ru, Comment) => "комментарий",
        (Lang::Ru, Mention) => "упоминание",
        (Lang::Ru, Reaction) => "реакция",
        (Lang::Ru, PollVote) => "голос в опросе",
        (Lang::Ru, Repost) => "репост",
        (Lang::Ru, Message) => "сообщение",
        (Lang::Ru, Subscription) => "подписка",
        (Lang::Ru, Codeword) => "кодовое слово",
        (Lang::En, Comment) => "comment",
        (Lang::En, Mention) => "mention",
        (Lang::En, Reaction) => "reaction",
        (Lang::En, PollVote) => "poll vote",
        (Lang::En, Repost) => "repost",
        (Lang::En, Message) => "message",
        (Lang::En, Subscription) => "subscription",
        (Lang::En, Codeword) => "codeword",
    }
}

pub fn reversal(lang: Lang, reason: ReversalReason) -> &'static str {
    match (lang, reason) {
        (Lang::Ru, ReversalReason::Deleted) => "удалено",
        (Lang::Ru, ReversalReason::Withdrawn) => "отменено",
        (Lang::Ru, ReversalReason::Left) => "отписка",
        (Lang::En, ReversalReason::Deleted) => "deleted",
        (Lang::En, ReversalReason::Withdrawn) => "withdrawn",
        (Lang::En, ReversalReason::Left) => "unsubscribed",
    }
}

const COMMANDS_RU: &str = "/balance — баланс\n/history — последние начисления и списания\n\
/top — рейтинг участников\n/link — привязать Instagram и ВКонтакте\n/help — помощь";
const COMMANDS_EN: &str = "/balance — your balance\n/history — recent points in and out\n\
/top — the leaderboard\n/link — link Instagram and VK\n/help — help";

pub fn welcome(lang: Lang, balance: i64) -> String {
    match lang {
        Lang::Ru => format!(
            "Привет! Здесь копятся баллы за активность в сообществах бренда: комментарии, \
             реакции, репосты, опросы и подписки в Instagram, ВКонтакте и Telegram. Баллы \
             обмениваются на награды.\n\nВаш баланс: {}.\n\nОткройте приложение, чтобы \
             увидеть награды и привязать аккаунты.\n\n{COMMANDS_RU}",
            points(lang, balance)
        ),
        Lang::En => format!(
            "Hi! Here you collect points for activity in the brand's communities: comments, \
             reactions, reposts, polls and subscriptions on Instagram, VK and Telegram. \
             Points buy rewards.\n\nYour balance: {}.\n\nOpen the app to see the rewards and \
             link your accounts.\n\n{COMMANDS_EN}",
            points(lang, balance)
        ),
    }
}

pub fn open_app(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Открыть приложение",
        Lang::En => "Open the app",
    }
}

pub fn open_link_screen(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Привязать аккаунты",
        Lang::En => "Link accounts",
    }
}

/// Appended when the app cannot be a button (the public URL is not https).
pub fn app_link(lang: Lang, url: &str) -> String {
    match lang {
        Lang::Ru => format!("\n\nПриложение: {url}"),
        Lang::En => format!("\n\nThe app: {url}"),
    }
}

pub fn help(lang: Lang) -> String {
    match lang {
        Lang::Ru => format!(
            "Баллы начисляются за комментарии, реакции, репосты, голоса в опросах и подписки \
             в сообществах бренда. Кодовое слово из поста можно прислать сюда сообщением.\n\n\
             {COMMANDS_RU}"
        ),
        Lang::En => format!(
            "You earn points for comments, reactions, reposts, poll votes and subscriptions in \
             the brand's communities. Send a post's codeword here as a message to redeem \
             it.\n\n{COMMANDS_EN}"
        ),
    }
}

pub fn balance(lang: Lang, current: i64, earned: i64, spent: i64) -> String {
    match lang {
        Lang::Ru => format!(
            "Ваш баланс: {}.\nВсего заработано: {}, потрачено: {}.",
            points(lang, current),
            points(lang, earned),
            points(lang, spent)
        ),
        Lang::En => format!(
            "Your balance: {}.\nEarned in total: {}, spent: {}.",
            points(lang, current),
            points(lang, earned),
            points(lang, spent)
        ),
    }
}

pub fn history_header(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Последние операции:",
        Lang::En => "Recent entries:",
    }
}

pub fn history_empty(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Пока ни одной операции. Комментируйте и реагируйте в сообществах бренда!",
        Lang::En => "No entries yet. Comment and react in the brand's communities!",
    }
}

pub fn top_header(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Топ участников за всё время:",
        Lang::En => "Top members of all time:",
    }
}

pub fn top_empty(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "В рейтинге пока никого нет.",
        Lang::En => "Nobody is on the leaderboard yet.",
    }
}

pub fn anonymous(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Участник",
        Lang::En => "Member",
    }
}

pub fn your_rank(lang: Lang, rank: i64, score: i64) -> String {
    match lang {
        Lang::Ru => format!("Ваше место: {rank} ({}).", points(lang, score)),
        Lang::En => format!("Your rank: {rank} ({}).", points(lang, score)),
    }
}

pub fn not_ranked(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Вас пока нет в рейтинге: заработайте первые баллы!",
        Lang::En => "You are not on the leaderboard yet: earn your first points!",
    }
}

pub fn link_intro(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => {
            "Привяжите Instagram и ВКонтакте, чтобы баллы за активность там шли на этот \
             баланс. Проще всего — в приложении (кнопка ниже). Или получите код здесь:\n\
             /link vk — код для ВКонтакте\n/link instagram — код для Instagram"
        }
        Lang::En => {
            "Link Instagram and VK so that points earned there go to this balance. The app \
             does it most easily (button below). Or get a code here:\n/link vk — a code for \
             VK\n/link instagram — a code for Instagram"
        }
    }
}

/// Step-by-step instructions for a one-time link code.
pub fn link_code(lang: Lang, network: Network, code: &str, minutes: i64) -> String {
    let (ru_where, en_where) = match network {
        Network::Vk => (
            "Напишите его комментарием под любым постом сообщества бренда во ВКонтакте \
             (или сообщением сообществу)",
            "Post it as a comment under any post of the brand's VK community (or send it \
             to the community as a message)",
        ),
        _ => (
            "Напишите его комментарием под любым постом бренда в Instagram (или в личные \
             сообщения бренду)",
            "Post it as a comment under any of the brand's Instagram posts (or send it to \
             the brand as a direct message)",
        ),
    };
    match lang {
        Lang::Ru => format!(
            "Код для привязки {}: {code}\n\n1. Скопируйте код.\n2. {ru_where} — из того \
             аккаунта, который хотите привязать.\n3. Готово: мы пришлём сообщение, а баллы \
             этого аккаунта перейдут на ваш баланс.\n\nКод действует {minutes} мин. и только \
             один раз.",
            self::network(lang, network)
        ),
        Lang::En => format!(
            "Your {} link code: {code}\n\n1. Copy the code.\n2. {en_where}, from the account \
             you want to link.\n3. Done: its points move to your balance.\n\nThe code works \
             once, for {minutes} minutes.",
            self::network(lang, network)
        ),
    }
}

pub fn link_unknown_network(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Можно привязать ВКонтакте или Instagram: /link vk или /link instagram.",
        Lang::En => "VK and Instagram can be linked: /link vk or /link instagram.",
    }
}

pub fn link_code_goes_elsewhere(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => {
            "Это код привязки: его нужно написать из аккаунта ВКонтакте или Instagram \
             (комментарием под постом бренда), а не сюда."
        }
        Lang::En => {
            "That is a link code: post it from your VK or Instagram account (as a comment \
             under the brand's post), not here."
        }
    }
}

pub fn codeword_paid(lang: Lang, points_paid: i64, balance: i64) -> String {
    match lang {
        Lang::Ru => format!(
            "Кодовое слово принято: {}! Ваш баланс: {}.",
            signed_points(lang, points_paid),
            points(lang, balance)
        ),
        Lang::En => format!(
            "Codeword accepted: {}! Your balance: {}.",
            signed_points(lang, points_paid),
            points(lang, balance)
        ),
    }
}

pub fn codeword_used(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Это кодовое слово вы уже использовали.",
        Lang::En => "You have already used this codeword.",
    }
}

pub fn codeword_unavailable(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Это кодовое слово больше не действует.",
        Lang::En => "This codeword is no longer valid.",
    }
}

pub fn codeword_unknown(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Не знаю такого кодового слова. Что умеет бот: /help",
        Lang::En => "That is not a codeword I know. What the bot can do: /help",
    }
}

pub fn blocked(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Ваше участие в программе приостановлено. Напишите бренду, если это ошибка.",
        Lang::En => "Your participation is suspended. Contact the brand if this is a mistake.",
    }
}

pub fn not_registered(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Вы ещё не участвуете в программе. Нажмите /start, чтобы начать.",
        Lang::En => "You have not joined the program yet. Press /start to join.",
    }
}

pub fn not_configured(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Бот ещё не подключён к программе лояльности. Загляните позже.",
        Lang::En => "The bot is not connected to a loyalty program yet. Please come back later.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_plurals() {
        let said: Vec<String> = [0, 1, 2, 5, 11, 12, 21, 22, 25, 101, 111, 1000]
            .into_iter()
            .map(|n| points(Lang::Ru, n))
            .collect();
        assert_eq!(
            said,
            [
                "0 баллов",
                "1 балл",
                "2 балла",
                "5 баллов",
                "11 баллов",
                "12 баллов",
                "21 балл",
                "22 балла",
                "25 баллов",
                "101 балл",
                "111 баллов",
                "1000 баллов"
            ]
        );
        assert_eq!(points(Lang::En, 1), "1 point");
        assert_eq!(signed_points(Lang::Ru, -3), "−3 балла");
        assert_eq!(signed_points(Lang::En, 10), "+10 points");
    }

    #[test]
    fn russian_unless_telegram_names_another_language() {
        assert_eq!(Lang::from_code(None), Lang::Ru);
        assert_eq!(Lang::from_code(Some("ru")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("RU-ru")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("en")), Lang::En);
        assert_eq!(Lang::from_code(Some("de")), Lang::En);
    }
}
