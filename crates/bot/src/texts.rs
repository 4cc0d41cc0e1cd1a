//! Everything the bot says, in Russian and English (`app::Language` picks which). Plain text only:
//! messages go without `parse_mode`, so names and reasons never need escaping.

use app::Language;
use domain::event::ReversalReason;
use domain::network::{ActivityKind, Network};

/// `10 баллов`, `1 балл`, `3 балла` / `10 points`, `1 point`; the sign is the caller's.
pub fn points(lang: Language, n: i64) -> String {
    let abs = n.unsigned_abs();
    let word = match lang {
        Language::Ru => match (abs % 10, abs % 100) {
            (1, m) if m != 11 => "балл",
            (2..=4, m) if !(12..=14).contains(&m) => "балла",
            _ => "баллов",
        },
        Language::En if abs == 1 => "point",
        Language::En => "points",
    };
    format!("{n} {word}")
}

/// `+10 баллов` / `−5 points` (a true minus sign).
pub fn signed_points(lang: Language, n: i64) -> String {
    let sign = if n < 0 { "−" } else { "+" };
    format!("{sign}{}", points(lang, n.abs()))
}

pub fn network(lang: Language, network: Network) -> &'static str {
    match (lang, network) {
        (_, Network::Instagram) => "Instagram",
        (Language::Ru, Network::Vk) => "ВКонтакте",
        (Language::En, Network::Vk) => "VK",
        (_, Network::Telegram) => "Telegram",
    }
}

pub fn activity(lang: Language, kind: ActivityKind) -> &'static str {
    use ActivityKind::*;
    match (lang, kind) {
        (Language::Ru, Comment) => "комментарий",
        (Language::Ru, Mention) => "упоминание",
        (Language::Ru, Reaction) => "реакция",
        (Language::Ru, PollVote) => "голос в опросе",
        (Language::Ru, Repost) => "репост",
        (Language::Ru, Message) => "сообщение",
        (Language::Ru, Subscription) => "подписка",
        (Language::Ru, Codeword) => "кодовое слово",
        (Language::En, Comment) => "comment",
        (Language::En, Mention) => "mention",
        (Language::En, Reaction) => "reaction",
        (Language::En, PollVote) => "poll vote",
        (Language::En, Repost) => "repost",
        (Language::En, Message) => "message",
        (Language::En, Subscription) => "subscription",
        (Language::En, Codeword) => "codeword",
    }
}

pub fn reversal(lang: Language, reason: ReversalReason) -> &'static str {
    match (lang, reason) {
        (Language::Ru, ReversalReason::Deleted) => "удалено",
        (Language::Ru, ReversalReason::Withdrawn) => "отменено",
        (Language::Ru, ReversalReason::Left) => "отписка",
        (Language::En, ReversalReason::Deleted) => "deleted",
        (Language::En, ReversalReason::Withdrawn) => "withdrawn",
        (Language::En, ReversalReason::Left) => "unsubscribed",
    }
}

const COMMANDS_RU: &str = "/balance — баланс\n/history — последние начисления и списания\n\
/top — рейтинг участников\n/link — привязать Instagram и ВКонтакте\n\
/stop — не получать рассылки бренда\n/forget — удалить мои данные\n/help — помощь";
const COMMANDS_EN: &str = "/balance — your balance\n/history — recent points in and out\n\
/top — the leaderboard\n/link — link Instagram and VK\n/stop — no more news from the brand\n\
/forget — delete my data\n/help — help";

pub fn welcome(lang: Language, balance: i64) -> String {
    match lang {
        Language::Ru => format!(
            "Привет! Здесь копятся баллы за активность в сообществах бренда: комментарии, \
             реакции, репосты, опросы и подписки в Instagram, ВКонтакте и Telegram. Баллы \
             обмениваются на награды.\n\nВаш баланс: {}.\n\nОткройте приложение, чтобы \
             увидеть награды и привязать аккаунты.\n\n{COMMANDS_RU}",
            points(lang, balance)
        ),
        Language::En => format!(
            "Hi! Here you collect points for activity in the brand's communities: comments, \
             reactions, reposts, polls and subscriptions on Instagram, VK and Telegram. \
             Points buy rewards.\n\nYour balance: {}.\n\nOpen the app to see the rewards and \
             link your accounts.\n\n{COMMANDS_EN}",
            points(lang, balance)
        ),
    }
}

pub fn open_app(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Открыть приложение",
        Language::En => "Open the app",
    }
}

pub fn open_link_screen(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Привязать аккаунты",
        Language::En => "Link accounts",
    }
}

/// Appended when the app cannot be a button (the public URL is not https).
pub fn app_link(lang: Language, url: &str) -> String {
    match lang {
        Language::Ru => format!("\n\nПриложение: {url}"),
        Language::En => format!("\n\nThe app: {url}"),
    }
}

pub fn help(lang: Language) -> String {
    match lang {
        Language::Ru => format!(
            "Баллы начисляются за комментарии, реакции, репосты, голоса в опросах и подписки \
             в сообществах бренда. Кодовое слово из поста можно прислать сюда сообщением.\n\n\
             {COMMANDS_RU}"
        ),
        Language::En => format!(
            "You earn points for comments, reactions, reposts, poll votes and subscriptions in \
             the brand's communities. Send a post's codeword here as a message to redeem \
             it.\n\n{COMMANDS_EN}"
        ),
    }
}

pub fn balance(lang: Language, current: i64, earned: i64, spent: i64) -> String {
    match lang {
        Language::Ru => format!(
            "Ваш баланс: {}.\nВсего заработано: {}, потрачено: {}.",
            points(lang, current),
            points(lang, earned),
            points(lang, spent)
        ),
        Language::En => format!(
            "Your balance: {}.\nEarned in total: {}, spent: {}.",
            points(lang, current),
            points(lang, earned),
            points(lang, spent)
        ),
    }
}

/// The /balance line about the member's tier: "Уровень: Silver (баллы ×1,5). До Gold — 30 баллов."
pub fn tier(lang: Language, standing: &domain::tier::Standing) -> String {
    let times = |percent: u32| match lang {
        Language::Ru => domain::tier::times(percent).replace('.', ","),
        Language::En => domain::tier::times(percent),
    };
    let current = match (lang, standing.current) {
        (Language::Ru, Some(t)) => format!(
            "Уровень: {} (баллы ×{}).",
            t.name,
            times(t.multiplier_percent)
        ),
        (Language::En, Some(t)) => format!(
            "Tier: {} (points ×{}).",
            t.name,
            times(t.multiplier_percent)
        ),
        (Language::Ru, None) => "Уровня пока нет.".to_string(),
        (Language::En, None) => "No tier yet.".to_string(),
    };
    match (lang, standing.next) {
        (Language::Ru, Some((next, missing))) => {
            format!(
                "{current} До уровня {} — {}.",
                next.name,
                points(lang, missing)
            )
        }
        (Language::En, Some((next, missing))) => {
            format!(
                "{current} {} to go until {}.",
                points(lang, missing),
                next.name
            )
        }
        (_, None) => current,
    }
}

/// A tier reached, as news: "Новый уровень: Gold! Теперь баллы ×2."
/// The /balance line about the next points to expire: "Ближайшие сгорят 30 баллов: 05.01.2027."
pub fn next_expiry(lang: Language, points_due: i64, day: chrono::NaiveDate) -> String {
    let day = day.format("%d.%m.%Y");
    match lang {
        Language::Ru => format!("Ближайшие сгорят {}: {day}.", points(lang, points_due)),
        Language::En => format!("Next to expire: {} on {day}.", points(lang, points_due)),
    }
}

/// The warning before points expire: how many, and when the first of them do.
pub fn expiry_warning(lang: Language, points: i64, first: domain::Timestamp) -> String {
    let day = first.get().format("%d.%m.%Y");
    let amount = signed_points(lang, points);
    let amount = amount.trim_start_matches('+');
    match lang {
        Language::Ru => format!(
            "⏳ {amount} скоро сгорят, первые — {day}. Потратьте их на награды в приложении."
        ),
        Language::En => format!(
            "⏳ {amount} expire soon, the first on {day}. Spend them on a reward in the app."
        ),
    }
}

pub fn tier_reached(lang: Language, tier: &str, multiplier_percent: u32) -> String {
    match lang {
        Language::Ru => format!(
            "Новый уровень: {tier}! Теперь баллы ×{}.",
            domain::tier::times(multiplier_percent).replace('.', ",")
        ),
        Language::En => format!(
            "New tier: {tier}! Points now count ×{}.",
            domain::tier::times(multiplier_percent)
        ),
    }
}

pub fn history_header(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Последние операции:",
        Language::En => "Recent entries:",
    }
}

pub fn history_empty(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Пока ни одной операции. Комментируйте и реагируйте в сообществах бренда!",
        Language::En => "No entries yet. Comment and react in the brand's communities!",
    }
}

pub fn top_header(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Топ участников за всё время:",
        Language::En => "Top members of all time:",
    }
}

pub fn top_empty(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "В рейтинге пока никого нет.",
        Language::En => "Nobody is on the leaderboard yet.",
    }
}

pub fn anonymous(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Участник",
        Language::En => "Member",
    }
}

pub fn your_rank(lang: Language, rank: i64, score: i64) -> String {
    match lang {
        Language::Ru => format!("Ваше место: {rank} ({}).", points(lang, score)),
        Language::En => format!("Your rank: {rank} ({}).", points(lang, score)),
    }
}

pub fn not_ranked(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Вас пока нет в рейтинге: заработайте первые баллы!",
        Language::En => "You are not on the leaderboard yet: earn your first points!",
    }
}

pub fn link_intro(lang: Language) -> &'static str {
    match lang {
        Language::Ru => {
            "Привяжите Instagram и ВКонтакте, чтобы баллы за активность там шли на этот \
             баланс. Проще всего — в приложении (кнопка ниже). Или получите код здесь:\n\
             /link vk — код для ВКонтакте\n/link instagram — код для Instagram"
        }
        Language::En => {
            "Link Instagram and VK so that points earned there go to this balance. The app \
             does it most easily (button below). Or get a code here:\n/link vk — a code for \
             VK\n/link instagram — a code for Instagram"
        }
    }
}

/// Step-by-step instructions for a one-time link code.
pub fn link_code(lang: Language, network: Network, code: &str, minutes: i64) -> String {
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
        Language::Ru => format!(
            "Код для привязки {}: {code}\n\n1. Скопируйте код.\n2. {ru_where} — из того \
             аккаунта, который хотите привязать.\n3. Готово: мы пришлём сообщение, а баллы \
             этого аккаунта перейдут на ваш баланс.\n\nКод действует {minutes} мин. и только \
             один раз.",
            self::network(lang, network)
        ),
        Language::En => format!(
            "Your {} link code: {code}\n\n1. Copy the code.\n2. {en_where}, from the account \
             you want to link.\n3. Done: its points move to your balance.\n\nThe code works \
             once, for {minutes} minutes.",
            self::network(lang, network)
        ),
    }
}

pub fn link_unknown_network(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Можно привязать ВКонтакте или Instagram: /link vk или /link instagram.",
        Language::En => "VK and Instagram can be linked: /link vk or /link instagram.",
    }
}

pub fn link_code_goes_elsewhere(lang: Language) -> &'static str {
    match lang {
        Language::Ru => {
            "Это код привязки: его нужно написать из аккаунта ВКонтакте или Instagram \
             (комментарием под постом бренда), а не сюда."
        }
        Language::En => {
            "That is a link code: post it from your VK or Instagram account (as a comment \
             under the brand's post), not here."
        }
    }
}

pub fn codeword_paid(lang: Language, points_paid: i64, balance: i64) -> String {
    match lang {
        Language::Ru => format!(
            "Кодовое слово принято: {}! Ваш баланс: {}.",
            signed_points(lang, points_paid),
            points(lang, balance)
        ),
        Language::En => format!(
            "Codeword accepted: {}! Your balance: {}.",
            signed_points(lang, points_paid),
            points(lang, balance)
        ),
    }
}

pub fn codeword_used(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Это кодовое слово вы уже использовали.",
        Language::En => "You have already used this codeword.",
    }
}

pub fn codeword_unavailable(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Это кодовое слово больше не действует.",
        Language::En => "This codeword is no longer valid.",
    }
}

pub fn codeword_unknown(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Не знаю такого кодового слова. Что умеет бот: /help",
        Language::En => "That is not a codeword I know. What the bot can do: /help",
    }
}

pub fn blocked(lang: Language) -> &'static str {
    match lang {
        Language::Ru => {
            "Ваше участие в программе приостановлено. Напишите бренду, если это ошибка."
        }
        Language::En => "Your participation is suspended. Contact the brand if this is a mistake.",
    }
}

/// What /forget does, and how to confirm it.
pub fn forget_confirm(lang: Language) -> &'static str {
    match lang {
        Language::Ru => {
            "Мы удалим ваши данные: привязку аккаунтов Telegram, Instagram и ВКонтакте, имена и \
             переписку с ботом. Баллы и награды будут потеряны: история начислений останется \
             в учёте анонимной, без связи с вами. Это нельзя отменить.\n\n\
             Чтобы подтвердить, отправьте: /forget yes"
        }
        Language::En => {
            "We will delete your data: the link to your Telegram, Instagram and VK accounts, \
             your names and your chat with the bot. Your points and rewards are lost: the \
             ledger keeps their history anonymously, with no link to you. This cannot be \
             undone.\n\nTo confirm, send: /forget yes"
        }
    }
}

/// After /stop.
pub fn broadcasts_stopped(lang: Language) -> &'static str {
    match lang {
        Language::Ru => {
            "Готово: рассылки бренда больше не придут. Баллы и уведомления о них остаются. \
             Вернуть рассылки: /resume"
        }
        Language::En => {
            "Done: no more news from the brand. Your points and their notifications stay. To \
             get the news again: /resume"
        }
    }
}

/// After /resume.
pub fn broadcasts_resumed(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Рассылки бренда снова включены. Отключить: /stop",
        Language::En => "You will get the brand's news again. To stop them: /stop",
    }
}

/// After /forget yes.
pub fn forgotten(lang: Language) -> &'static str {
    match lang {
        Language::Ru => {
            "Ваши данные удалены. Если вы снова напишете боту или оставите комментарий, вы \
             начнёте программу заново, с нуля баллов."
        }
        Language::En => {
            "Your data has been deleted. If you write to the bot or comment again, you start \
             the program anew, with no points."
        }
    }
}

pub fn not_registered(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Вы ещё не участвуете в программе. Нажмите /start, чтобы начать.",
        Language::En => "You have not joined the program yet. Press /start to join.",
    }
}

pub fn not_configured(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Бот ещё не подключён к программе лояльности. Загляните позже.",
        Language::En => {
            "The bot is not connected to a loyalty program yet. Please come back later."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_plurals() {
        let said: Vec<String> = [0, 1, 2, 5, 11, 12, 21, 22, 25, 101, 111, 1000]
            .into_iter()
            .map(|n| points(Language::Ru, n))
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
        assert_eq!(points(Language::En, 1), "1 point");
        assert_eq!(signed_points(Language::Ru, -3), "−3 балла");
        assert_eq!(signed_points(Language::En, 10), "+10 points");
    }
}
