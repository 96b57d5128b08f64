"""Unit tests of the pure triage functions (bot.triage).

The expectations follow the city's policy, not the current code: where the code
disagrees with a clearly correct expectation, the case is marked
``xfail(strict=True)`` with the reason, so that a fix turns it into a pass.
"""

from typing import Sequence, Union

import pytest

from bot import triage

Messages = Union[str, Sequence[str]]


def _assess(messages: Messages, asked: Sequence[str] = ()) -> triage.Assessment:
    if isinstance(messages, str):
        messages = [messages]
    return triage.assess(list(messages), asked=asked)


def _bug(reason: str):
    """Mark a case where the code disagrees with the policy (a known bug)."""
    return pytest.mark.xfail(reason=reason, strict=True)


# --------------------------------------------------------------------------------
# 1. Carer types
# --------------------------------------------------------------------------------

CARER_TYPE_CASES = [
    # --- young carers (under 18: 小学生・中学生・高校生) ---
    pytest.param(
        "ちゅうがく1ねんせいです。おかあさんがびょうきだから、まいにちおさらあらいとせんたくしてる",
        ["young_carer"],
        id="young-hiragana-junior-high",
    ),
    pytest.param(
        "高2っす。オヤジが脳梗塞で倒れてから、放課後はずっと親父のリハビリに付き添ってる",
        ["young_carer"],
        id="young-high-school-stroke",
    ),
    pytest.param(
        "うちな、小5やねん。おかんがしんどいから、ちっちゃい弟のおむかえいってんねん",
        ["young_carer"],
        id="young-kansai-dialect",
    ),
    pytest.param("JKです✌️ パパがガンで、毎日病院に付き添ってから帰ってる", ["young_carer"], id="young-jk-emoji"),
    pytest.param("ｵﾚ中2、じいちゃんのｶｲｺﾞしてる", ["young_carer"], id="young-halfwidth-kana"),
    pytest.param("高校一年でづ。母がびょきで、家事ぜんぶやってます", ["young_carer"], id="young-typos"),
    pytest.param(
        "高校3年です。コンビニでバイトしながら、母の代わりに弟の面倒を見ています",
        ["young_carer"],  # a pupil's part-time job does not make a business carer
        id="young-pupil-with-baito",
    ),
    pytest.param(
        "ぼく小5。おじいちゃんのかいごしてるよ",
        ["young_carer"],
        id="young-hiragana-kaigo-shiteru",
    ),
    # --- youth carers (18-39) ---
    pytest.param("大学1年です。カフェでバイトしながら、母の通院に付き添っています", ["youth_carer"], id="youth-student-with-baito"),
    pytest.param("ワイ大学生、おとんの介護でバイトもできへん", ["youth_carer"], id="youth-kansai-student"),
    pytest.param("22歳です。働いていません。母の看病で家を空けられません", ["youth_carer"], id="youth-22-not-working"),
    pytest.param("専門学校１年です。父が交通事故で車椅子になり、入浴の介助をしています", ["youth_carer"], id="youth-vocational-school"),
    pytest.param(
        "24歳、フリーターです。母がうつで寝込みがちなので家事は全部自分がやってます",
        ["youth_carer", "business_carer"],
        id="youth-freeter-works",
    ),
    pytest.param(
        "三十代後半です。会社員をしながら、認知症の父を介護しています",
        ["youth_carer", "business_carer"],
        id="youth-kanji-thirties-office-worker",
    ),
    pytest.param(
        "ｼｬｶｲｼﾞﾝ2ﾈﾝﾒ、母のｶｲｺﾞしながら働いてます",
        ["youth_carer", "business_carer"],
        id="youth-halfwidth-second-year-worker",
    ),
    # --- business carers (working) ---
    pytest.param("42歳の会社員です。父の介護と仕事の両立に悩んでいます", ["business_carer"], id="business-office-worker"),
    pytest.param("40代、ﾊﾟｰﾄ勤務です。母のｶｲｺﾞで毎日ﾍﾄﾍﾄです", ["business_carer"], id="business-halfwidth-part-timer"),
    pytest.param(
        "私は看護師として病院で働いていますが、家では認知症の母を介護しています",
        ["business_carer"],
        id="business-nurse-cares-at-home",
    ),
    pytest.param(
        "会社員です。父の介護のため休職しています",
        ["business_carer"],
        id="business-on-leave-kyushoku-homophone",
    ),
    pytest.param(
        "祖母の介護をしています。自分は小学校の先生です",
        ["business_carer"],
        id="business-primary-school-teacher",
    ),
    # --- carers (adult, not working or work unknown) ---
    pytest.param("62歳、定年退職しました。妻が難病で、毎日介護しています", ["carer"], id="carer-retired"),
    pytest.param("私は68歳。夫の介護を一人でしています", ["carer"], id="carer-68"),
    pytest.param("主婦です。夫がALSで、吸引やおむつ替えを私がしています", ["carer"], id="carer-housewife"),
    pytest.param(
        "父の介護をしてます。私は県外に住んでいて、月に一度帰ってます",
        ["carer"],
        id="carer-lives-in-another-prefecture",
    ),
]


@pytest.mark.parametrize("messages, expected", CARER_TYPE_CASES)
def test_carer_types(messages, expected):
    assert _assess(messages).carer_types == expected


NO_CARER_CASES = [
    # ordinary parenting
    pytest.param("2歳の息子がイヤイヤ期で毎日てんてこまいです", id="parenting-toddler"),
    pytest.param("生後3ヶ月の赤ちゃんの授乳で夜眠れません", id="parenting-baby"),
    pytest.param(
        "子どもの弁当作りが毎朝めんどくさい",
        id="parenting-packed-lunch",
    ),
    # one's own illness
    pytest.param("私自身が病気で、夫に身の回りのことを手伝ってもらっています", id="own-illness-helped-by-husband"),
    pytest.param("私自身がうつ病で通院しています。仕事も休職中です", id="own-depression"),
    pytest.param(
        "去年がんの手術をして、今は抗がん剤治療中です。家族に支えてもらっています",
        id="own-cancer-supported-by-family",
    ),
    # general questions
    pytest.param("ケアラー支援条例っていつできたの？", id="question-ordinance"),
    pytest.param("介護保険の申請ってどこでできますか", id="question-kaigo-hoken"),
    pytest.param("マイナンバーカードの受け取りはどこですか", id="question-off-topic"),
]


@pytest.mark.parametrize("messages", NO_CARER_CASES)
def test_no_carer_type(messages):
    a = _assess(messages)
    assert a.carer_types == []
    assert a.user_role == "other"


# --------------------------------------------------------------------------------
# 2. Who is writing
# --------------------------------------------------------------------------------

ROLE_CASES = [
    # carers
    pytest.param("父が認知症なので、仕事の後に毎日介護をしています", "carer", id="carer-plain"),
    pytest.param(
        "浪人生です。母子家庭で母が病気なので家事と看病をしてます",
        "carer",
        id="carer-subject-omitted",
    ),
    pytest.param(
        "60代、年金暮らしです。夫が認知症で介護していますが、同じ悩みを持つ人と語り合いたい",
        "carer",
        id="carer-wife-of-husband-with-dementia",
    ),
    # employers
    pytest.param(
        "総務課の者ですが、親御さんの介護をしている社員への支援制度を整えたいと考えております",
        "employer",
        id="employer-general-affairs-polite",
    ),
    pytest.param("うちの工務店の職人が、嫁さんの介護で現場に来られない日が増えとる", "employer", id="employer-dialect-craftsman"),
    pytest.param(
        "コンビニの店長です。バイトの高校生の子が、お母さんの看病でシフトを減らしたいと言ってきました",
        "employer",
        id="employer-store-manager",
    ),
    pytest.param("部下がお父さんの看病で疲れ切っているようで、上司として何ができるか知りたいです", "employer", id="employer-boss"),
    pytest.param(
        "飲食店のオーナーをやってます。バイトの大学生が、おばあちゃんの介護で最近休みがちなんです",
        "employer",
        id="employer-restaurant-owner",
    ),
    # supporters
    pytest.param(
        "小学校の教員をしています。クラスの児童が、弟たちの世話で朝ごはんを食べずに登校してきます",
        "supporter",
        id="supporter-teacher",
    ),
    pytest.param("同じクラスの子が、妹のおせわでいつもつかれてるみたい", "supporter", id="supporter-classmate-child"),
    pytest.param("民生委員です。老老介護のご夫婦で、奥さんが倒れそうです", "supporter", id="supporter-minsei-iin"),
    pytest.param(
        "姉が一人で母の介護をしていて心配です。私は遠くに住んでいて何も手伝えていません",
        "supporter",
        id="supporter-sibling-far-away",
    ),
    pytest.param(
        "うちの子の友達が、おばあちゃんの介護をしてるみたいで心配",
        "supporter",
        id="supporter-parent-of-a-friend",
    ),
    pytest.param(
        "ケアマネとして担当している家庭で、中学生のお孫さんが祖母の介護を担っています",
        "supporter",
        id="supporter-care-manager",
    ),
    pytest.param(
        "スクールソーシャルワーカーとして関わっている高校生が、祖父の介護で欠席が続いています",
        "supporter",
        id="supporter-school-social-worker",
    ),
    # others
    pytest.param("明日の燃えるゴミの日っていつですか", "other", id="other-garbage-day"),
    pytest.param("ヤングケアラーってどういう意味ですか？", "other", id="other-faq"),
]


@pytest.mark.parametrize("messages, expected", ROLE_CASES)
def test_user_role(messages, expected):
    assert _assess(messages).user_role == expected


# --------------------------------------------------------------------------------
# 3. Where to go
# --------------------------------------------------------------------------------

PRIMARY_CASES = [
    pytest.param(
        "弊社で働く30代の社員が、認知症の母親を介護しながら勤務しております。会社として活用できる支援策をご教示いただけますでしょうか",
        "shoko",
        id="employer-shoko",
    ),
    pytest.param(
        "コンビニの店長です。バイトの高校生の子が、お母さんの看病でシフトを減らしたいと言ってきました",
        "shoko",
        id="employer-of-pupil-shoko",
    ),
    pytest.param("中2だけど、ばーちゃんの介護でぶかつやめた", "kodomo_katei_soudan", id="young-grandparent-kodomo"),
    pytest.param(
        "中1です。お兄ちゃんが知的障害で、おせわしてる。お母さんはいつもいそがしい",
        "kodomo_katei_soudan",
        id="young-disabled-sibling-kodomo",
    ),
    pytest.param("大学2年です。祖母が認知症で、講義のない日は私が見守りをしています", "koreisha_ikiiki", id="youth-dementia"),
    pytest.param(
        "48歳の主婦です。母が脳梗塞で倒れてから要介護4になり、自宅で介護しています", "koreisha_ikiiki", id="adult-elderly-yokaigo"
    ),
    pytest.param("70歳の妻が胃ろうになり、私が介護しています", "koreisha_ikiiki", id="adult-wife-aged-70"),
    pytest.param("50代の父親です。ダウン症の娘の世話をしながら自営業をしています", "shogai_fukushi", id="adult-disability"),
    pytest.param("大学2年です。弟が重度の障害があって、週末は私が見ています", "shogai_fukushi", id="youth-disability"),
    pytest.param("4歳の息子が言葉が遅くて、療育に通わせています。仕事との両立がきついです", "hattatsu_shien", id="small-child-development"),
    pytest.param("28歳、正社員です。平日は仕事、週末は実家に帰って母の看病をしています", "fukushi_somu", id="youth-illness-somu"),
    pytest.param("主婦です。夫がALSで、吸引やおむつ替えを私がしています", "fukushi_somu", id="adult-illness-somu"),
]


@pytest.mark.parametrize("messages, primary", PRIMARY_CASES)
def test_primary_destination(messages, primary):
    a = _assess(messages)
    assert a.primary == primary
    assert a.handoff_destinations[0] == primary


EXTRA_CASES = [
    pytest.param(
        "中1です。お兄ちゃんが知的障害で、おせわしてる。お母さんはいつもいそがしい",
        {"shogai_fukushi", "siblings_place"},
        set(),
        id="young-disabled-sibling-siblings-place",
    ),
    pytest.param(
        "大学2年です。弟が重度の障害があって、週末は私が見ています",
        {"shogai_fukushi"},
        {"siblings_place"},  # the siblings' place is for young carers
        id="youth-disabled-sibling-no-siblings-place",
    ),
    pytest.param(
        "母の介護で仕事を辞めました。貯金も減って生活が苦しいです",
        {"seikatsu_fukushi"},
        set(),
        id="adult-money-seikatsu",
    ),
    pytest.param(
        "大学生です。母子家庭で母が入院中、家賃が払えなくなりそう",
        {"seikatsu_fukushi"},
        set(),
        id="youth-rent-seikatsu",
    ),
    pytest.param(
        "高1です。お母さんが入院中で、毎日弟と妹のごはんを作っています。たまには誰かと一緒にご飯食べたい",
        {"youth_hall", "mintabe"},
        set(),
        id="young-wants-to-eat-together",
    ),
    pytest.param(
        "中2です。おばあちゃんのかいごと家事してて、家に帰りたくない日もある。ほっとできる場所ある？",
        {"youth_hall"},
        {"mintabe", "peer_groups"},
        id="young-wants-a-place",
    ),
    pytest.param(
        "大学3年です。父が統合失調症で家のことを全部やっています。同じような立場の人と話してみたい",
        {"youth_hall"},
        {"peer_groups"},
        id="youth-wants-peers-youth-hall",
    ),
    pytest.param(
        "45歳、会社員。母が認知症で、介護している人同士で話せる家族会を探しています",
        {"koreisha_ikiiki", "peer_groups"},
        {"youth_hall"},
        id="adult-wants-peers-peer-groups",
    ),
    pytest.param(
        "55歳です。息子に重度の知的障害があり、ずっと介護しています。同じ境遇の親の会があれば知りたいです",
        {"shogai_fukushi", "peer_groups"},
        {"youth_hall"},
        id="adult-parent-of-disabled-son-peers",
    ),
    pytest.param(
        "弊社で働く30代の社員が、認知症の母親を介護しながら勤務しております。会社として活用できる支援策をご教示いただけますでしょうか",
        {"shoko", "koreisha_ikiiki"},
        {"kodomo_katei_soudan"},
        id="employer-plus-need-section",
    ),
    pytest.param(
        "小6です。ママが病気でごはんがないことがある。おなかすいた",
        {"mintabe"},
        set(),
        id="young-hungry-mintabe",
    ),
]


@pytest.mark.parametrize("messages, included, excluded", EXTRA_CASES)
def test_extra_destinations(messages, included, excluded):
    dests = _assess(messages).handoff_destinations
    assert included <= set(dests), dests
    assert not (excluded & set(dests)), dests
    assert len(dests) == len(set(dests)) <= triage.MAX_DESTINATIONS


def test_no_destination_without_a_topic():
    assert _assess("マイナンバーカードの受け取りはどこですか").handoff_destinations == []


# --------------------------------------------------------------------------------
# 4. Crisis
# --------------------------------------------------------------------------------

LONG_VENTING = "毎日母の介護で朝から晩まで休みなく動いています。" * 60 + "もう死にたい"

CRISIS_CASES = [
    pytest.param("ママのかいごつかれた。しんじゃいたいな", id="child-wants-to-die"),
    pytest.param("介護疲れで、夫を連れて一緒に死ねたらと考えてしまう夜があります", id="murder-suicide-thought"),
    pytest.param("ｼﾆﾀｲﾖ、ﾏｼﾞﾃﾞ", id="halfwidth-wants-to-die"),
    pytest.param("じさつしたい", id="hiragana-suicide"),
    pytest.param("もうこの世から消えてしまいたいです", id="wants-to-disappear"),
    pytest.param("駅のホームに立つと、ふっと飛び込みたくなる", id="jump-in-front-of-train"),
    pytest.param("カッターで手首切っちゃった😢 誰にも言えない", id="self-harm"),
    pytest.param("生きてる意味ってあるのかな。毎日介護だけの人生", id="no-meaning-in-living"),
    pytest.param("お兄ちゃんがおこるとなぐってくるから、いえにかえりたくない", id="violence-from-brother"),
    pytest.param("夜中に何度も起こされて、つい認知症の父を怒鳴って叩いてしまった", id="hit-the-cared-person"),
    pytest.param("このままだと寝たきりの夫に手をあげてしまいそうで自分が怖い", id="fear-of-harming"),
    pytest.param("母を殺してしまうんじゃないかと思うくらい追い詰められている", id="fear-of-killing"),
    pytest.param(
        "もう全部いやになった。いなくなってしまいたい",
        id="wants-to-be-gone",
    ),
    pytest.param(
        "父が酒に酔うと母と私を殴ります",
        id="violence-polite-form",
    ),
    pytest.param(
        "じいちゃんの世話ずっとしてて、生きるのしんどい",
        id="living-is-hard-no-ga",
    ),
    pytest.param(
        "もう生きとうない。ばあちゃんの世話ばっかりや",
        id="dialect-does-not-want-to-live",
    ),
    pytest.param(
        LONG_VENTING,
        id="wish-to-die-after-1000-chars",
    ),
]


@pytest.mark.parametrize("messages", CRISIS_CASES)
def test_crisis(messages):
    assert _assess(messages).crisis is True


NOT_CRISIS_CASES = [
    pytest.param("母の介護と仕事で死ぬほど忙しい毎日です", id="shinu-hodo-isogashii"),
    pytest.param("死にたいとかではないけど、正直ちょっと疲れました", id="denial"),
    pytest.param("消えたいわけじゃないんです。ただ誰かに話を聞いてほしくて", id="denial-kietai"),
    pytest.param("昨日は死んだように眠りました。父の夜間のトイレ介助がなくて", id="slept-like-dead"),
    pytest.param("暑すぎて死にそう～　じいちゃんの散歩付き添いしてきた", id="dying-of-heat"),
    pytest.param("ばあちゃんの肩たたいてあげたら喜んでくれた", id="shoulder-tapping"),
    pytest.param("兄は暴れたりはしないけど、こだわりが強くて大変です", id="does-not-rampage"),
    pytest.param(
        "介護の合間に見た映画で主人公が死にたいって言ってて泣いた",
        id="movie-character",
    ),
    pytest.param(
        "認知症の父と一緒に料理をしています。包丁を使うときだけ横で見守っています",
        id="kitchen-knife-cooking",
    ),
    # 「利用できる」 is read りようできる: 'うで(を)?き(る|っ)' (腕を切る) must not match inside a word
    pytest.param("母の介護をしています。介護保険で利用できるサービスを知りたいです", id="riyou-dekiru"),
]


@pytest.mark.parametrize("messages", NOT_CRISIS_CASES)
def test_not_crisis(messages):
    assert _assess(messages).crisis is False


# --------------------------------------------------------------------------------
# 5. Several turns: answers to the bot's questions
# --------------------------------------------------------------------------------

MULTI_TURN_CASES = [
    pytest.param(["母の介護がつらい", "二十六"], ["age"], ["youth_carer"], "carer", id="kanji-age-26"),
    pytest.param(
        ["ぱぱがにゅういんしてて、いもうとのおせわしてる", "しょうがく6ねん"], ["age"], ["young_carer"], "carer", id="child-grade"
    ),
    pytest.param(["おとうとのめんどうみてる", "ちゅう2"], ["age"], ["young_carer"], "carer", id="child-chuu2"),
    pytest.param(["母の世話をしてる", "十七"], ["age"], ["young_carer"], "carer", id="boundary-17"),
    pytest.param(["母の世話をしてる", "十八"], ["age"], ["youth_carer"], "carer", id="boundary-18"),
    pytest.param(["母の世話をしてる", "三十九"], ["age"], ["youth_carer"], "carer", id="boundary-39"),
    pytest.param(["母の世話をしてる", "四十"], ["age"], ["carer"], "carer", id="boundary-40"),
    pytest.param(
        ["祖母の介護をしています", "35歳です", "在宅でエンジニアをしています"],
        ["age", "work"],
        ["youth_carer", "business_carer"],
        "carer",
        id="age-then-work",
    ),
    pytest.param(["夫の介護をしています", "50代", "パートです"], ["age", "work"], ["business_carer"], "carer", id="fifties-part-time"),
    pytest.param(
        ["親の介護の件で", "28です。IT企業で働いています"], ["age"], ["youth_carer", "business_carer"], "carer", id="age-and-work-in-one"
    ),
    pytest.param(["母が認知症です", "私は高校生です、毎日見守りしてる"], [], ["young_carer"], "carer", id="grade-in-second-turn"),
    pytest.param(["父の介護をしています", "言いたくない"], ["age"], ["carer"], "carer", id="declines-age"),
    pytest.param(["母の介護をしています", "3"], [], ["carer"], "carer", id="bare-3-is-not-an-age"),
    pytest.param(
        ["担任をしているクラスの生徒のことで相談です", "お母さんが病気で、妹の世話をしているようです"],
        [],
        ["young_carer"],
        "supporter",
        id="teacher-then-details",
    ),
    pytest.param(
        ["おじいちゃんのかいごしてる", "12さい"],
        ["age"],
        ["young_carer"],
        "carer",
        id="hiragana-kaigo-then-age",
    ),
]


@pytest.mark.parametrize("messages, asked, types, role", MULTI_TURN_CASES)
def test_multi_turn(messages, asked, types, role):
    a = triage.assess(messages, asked=asked)
    assert a.carer_types == types
    assert a.user_role == role


def test_declined_is_remembered():
    assert triage.assess(["父の介護をしています", "言いたくない"], asked=["age"]).facts.declined is True


def test_bare_number_answer_gives_the_age():
    f = triage.assess(["母の介護がつらい", "二十六"], asked=["age"]).facts
    assert (f.carer_age, f.stage) == (26, "youth")


@pytest.mark.parametrize(
    "messages",
    [
        pytest.param(["弟の世話が大変", "もう消えたい"], id="crisis-in-second-turn"),
        pytest.param(["しにたい", "ありがとう"], id="crisis-stays-after-thanks"),
    ],
)
def test_crisis_over_turns(messages):
    assert triage.assess(messages).crisis is True


# --------------------------------------------------------------------------------
# 6. Kanji numbers
# --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("二十六", 26),
        ("十五", 15),
        ("三十", 30),
        ("十", 10),
        ("十七", 17),
        ("四十二", 42),
        ("七十八", 78),
        ("九十九", 99),
        ("15", 15),
        ("１７", 17),  # full-width digits
        ("歳", None),
        ("二十歳", None),
        ("abc", None),
        pytest.param("", None, id="empty"),
    ],
)
def test_kanji_number(text, value):
    assert triage.kanji_number(text) == value


# --------------------------------------------------------------------------------
# 7. Odd input never crashes and gives empty results
# --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "messages",
    [
        pytest.param([], id="no-messages"),
        pytest.param([""], id="empty"),
        pytest.param(["   "], id="spaces"),
        pytest.param(["\n\t"], id="newline-tab"),
        pytest.param(["\u3000\u3000"], id="full-width-spaces"),
        pytest.param(["", "  ", "\n"], id="several-empty"),
        pytest.param(["😭😭😭"], id="emoji-only"),
        pytest.param(["🙏"], id="one-emoji"),
        pytest.param(["。。。"], id="punctuation-only"),
        pytest.param(["\x00\x01"], id="control-chars"),
        pytest.param(["あ" * 10_000], id="10000-hiragana"),
        pytest.param(["😂" * 10_000], id="10000-emoji"),
        pytest.param(["ｰ" * 10_000], id="10000-halfwidth-bar"),
        pytest.param(["天気のいい日は海まで散歩します。" * 625], id="10000-chars-of-text"),
    ],
)
def test_odd_input_gives_empty_result(messages):
    a = triage.assess(messages)
    assert a.carer_types == []
    assert a.user_role == "other"
    assert a.handoff_destinations == []
    assert a.crisis is False
    assert a.primary is None


def test_long_message_is_still_read():
    text = "高校2年です。母の介護をしています。" + "毎日つかれています。" * 1000
    assert len(text) > 10_000
    assert triage.assess([text]).carer_types == ["young_carer"]


# 8. The issue's own examples: age, grade and work read by rules
@pytest.mark.parametrize(
    "answer, stage, age",
    [("高2", "child", None), ("中３", "child", None), ("十五歳", "child", 15), ("二十六", "youth", 26),
     ("30代", "youth", 30), ("社会人2年目", "youth", None)],
)
def test_issue_examples_of_age_and_grade(answer, stage, age):
    facts = triage.read_facts(["母の介護をしています", answer], asked=["age"])
    assert facts.stage == stage
    assert facts.carer_age == age


# --------------------------------------------------------------------------------
# 9. Ages with their places in the text; the lexicon is data (issue 13)
# --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("母は78歳で、私は17さい", [(2, 5, 78), (9, 13, 17)]),
        ("私は１７歳です", [(2, 5, 17)]),  # full-width digits: offsets in the text as written
        ("ﾜﾀｼ ２０代", [(4, 7, 20)]),  # half-width kana before the age
        ("二十六才の会社員", [(0, 4, 26)]),
        ("三十代", [(0, 3, 30)]),
        ("年齢は言いたくない", []),
        ("", []),
    ],
)
def test_find_ages_gives_each_age_with_its_span_in_the_original_text(text, expected):
    found = triage.find_ages(text)
    assert found == expected
    assert all(text[start:end].strip() for start, end, _ in found)


def test_the_lexicon_reads_every_word_list_from_data_by_topic():
    from bot.triage import lexicon as lx

    assert "死にたい" in lx.CRISIS and "死ぬほど" in lx.NOT_CRISIS
    assert lx.CRISIS.index("死にたい") < lx.CRISIS.index("(揺さぶ|ゆさぶ)(って|っ|り|る)")  # one list, in the file's order
    assert list(lx.RELATIONS)[:2] == ["grandparent", "grandchild"]
    assert lx.NUM in lx.AGE and "{" + "NUM}" not in lx.AGE  # composed from NUM
    assert lx.KIN.startswith("(?:祖母|") and "\\bmom\\b" not in lx.KIN
    assert "\\b" in lx.ENGLISH_AGE and "i'?m" in lx.ENGLISH_AGE  # backslashes and quotes kept as written


def test_a_lexicon_name_given_in_two_files_is_an_error(tmp_path):
    from bot.triage import lexicon as lx

    for name in lx.FILES:
        (tmp_path / f"{name}.yml").write_text("", encoding="utf-8")
    (tmp_path / "care.yml").write_text("CRISIS:\n  - 'x'\n", encoding="utf-8")
    (tmp_path / "danger.yml").write_text("CRISIS:\n  - 'y'\n", encoding="utf-8")
    with pytest.raises(ValueError, match="CRISIS"):
        lx._read(tmp_path)
