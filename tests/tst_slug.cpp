// Slug::derive and Slug::validate: the API slug rule of the seed ("a raw metric" -> a_raw_metric).
#include "slug.h"

#include <QTest>

using namespace meterdesk;
using namespace Qt::StringLiterals;

class TestSlug : public QObject
{
    Q_OBJECT

private slots:
    void derive_data();
    void derive();
    void deriveNeverExceedsCapOrEndsInSeparator_data();
    void deriveNeverExceedsCapOrEndsInSeparator();
    void derivedSlugsAreValid_data();
    void derivedSlugsAreValid();
    void validateAccepts_data();
    void validateAccepts();
    void validateRefuses_data();
    void validateRefuses();
};

void TestSlug::derive_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expected");

    QTest::newRow("seed example") << u"a raw metric"_s << u"a_raw_metric"_s;
    QTest::newRow("upper case") << u"CPU Hours"_s << u"cpu_hours"_s;
    QTest::newRow("accents: Über Usage") << u"Über Usage"_s << u"uber_usage"_s;
    QTest::newRow("accents: café crème") << u"Café Crème"_s << u"cafe_creme"_s;
    QTest::newRow("accents: ñandú") << u"Ñandú Índex"_s << u"nandu_index"_s;
    QTest::newRow("full-width letters") << u"ＡＢＣ １２"_s << u"abc_12"_s;
    QTest::newRow("ligature fi") << u"ﬁle size"_s << u"file_size"_s;
    QTest::newRow("punctuation run") << u"cpu -- usage!!! (hours)"_s << u"cpu_usage_hours"_s;
    QTest::newRow("mixed separators") << u"a.b/c\\d:e;f"_s << u"a_b_c_d_e_f"_s;
    QTest::newRow("existing underscores collapse") << u"a__b___c"_s << u"a_b_c"_s;
    QTest::newRow("dashes become underscores") << u"a-b"_s << u"a_b"_s;
    QTest::newRow("leading junk") << u"   ***cpu"_s << u"cpu"_s;
    QTest::newRow("trailing junk") << u"cpu!!!   "_s << u"cpu"_s;
    QTest::newRow("leading and trailing junk") << u"  -- cpu usage --  "_s << u"cpu_usage"_s;
    QTest::newRow("tabs and newlines") << u"\tcpu\nusage\r\n"_s << u"cpu_usage"_s;
    QTest::newRow("digits kept") << u"Plan 2024 v2"_s << u"plan_2024_v2"_s;
    QTest::newRow("empty") << QString() << QString();
    QTest::newRow("only junk") << u"!!! --- ???"_s << QString();
    QTest::newRow("only non-latin script") << u"日本語"_s << QString();
    QTest::newRow("non-latin between words") << u"cpu 日本 usage"_s << u"cpu_usage"_s;
    QTest::newRow("sql injection text") << u"\"; DROP TABLE x; --"_s << u"drop_table_x"_s;
    QTest::newRow("quotes") << u"it's \"quoted\""_s << u"it_s_quoted"_s;
    QTest::newRow("emoji") << u"🔥 hot metric 🔥"_s << u"hot_metric"_s;

    const QString sixtyFour(64, u'a');
    QTest::newRow("exactly 64") << sixtyFour << sixtyFour;
    QTest::newRow("100 letters cut to 64") << QString(100, u'b') << QString(64, u'b');
    QTest::newRow("cap counts separators") << QString(30, u'a') + u" "_s + QString(40, u'b')
                                           << QString(30, u'a') + u"_"_s + QString(33, u'b');
    QTest::newRow("cut does not leave a trailing separator") << QString(63, u'a') + u" bcd"_s << QString(63, u'a');
}

void TestSlug::derive()
{
    QFETCH(QString, name);
    QFETCH(QString, expected);
    QCOMPARE(Slug::derive(name), expected);
}

void TestSlug::deriveNeverExceedsCapOrEndsInSeparator_data()
{
    QTest::addColumn<QString>("name");
    for (int n = 55; n <= 70; ++n)
        QTest::addRow("%d letters + ' x y'", n) << QString(n, u'q') + u" x y"_s;
    for (int n = 60; n <= 66; ++n)
        QTest::addRow("%d letters + '!!!'", n) << QString(n, u'q') + u"!!!"_s;
}

void TestSlug::deriveNeverExceedsCapOrEndsInSeparator()
{
    QFETCH(QString, name);
    const QString slug = Slug::derive(name);
    QVERIFY(slug.size() <= Slug::MaxLength);
    QVERIFY2(!slug.endsWith(u'_'), qPrintable(slug));
    QVERIFY2(!slug.startsWith(u'_'), qPrintable(slug));
    QVERIFY(!Slug::validate(slug).has_value());
}

void TestSlug::derivedSlugsAreValid_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("seed") << u"a raw metric"_s;
    QTest::newRow("accented") << u"Über Usage"_s;
    QTest::newRow("hostile") << u"'; DELETE FROM definitions; --"_s;
    QTest::newRow("10 KB") << QString(10240, u'z');
    QTest::newRow("10 KB mixed") << QString(8000, u'x') + QString(2000, u'.') + u"tail"_s;
}

void TestSlug::derivedSlugsAreValid()
{
    QFETCH(QString, name);
    const QString slug = Slug::derive(name);
    QVERIFY(!slug.isEmpty());
    const auto problem = Slug::validate(slug);
    QVERIFY2(!problem, problem ? qPrintable(problem->message) : "");
}

void TestSlug::validateAccepts_data()
{
    QTest::addColumn<QString>("slug");
    QTest::newRow("seed") << u"a_raw_metric"_s;
    QTest::newRow("seed's test_1") << u"test_1"_s;
    QTest::newRow("dashes") << u"cpu-hours"_s;
    QTest::newRow("upper case kept") << u"CPU_Hours"_s;
    QTest::newRow("digits only") << u"2024"_s;
    QTest::newRow("single char") << u"a"_s;
    QTest::newRow("leading underscore") << u"_x"_s;
    QTest::newRow("exactly 64") << QString(64, u'k');
}

void TestSlug::validateAccepts()
{
    QFETCH(QString, slug);
    const auto problem = Slug::validate(slug);
    QVERIFY2(!problem, problem ? qPrintable(problem->message) : "");
}

void TestSlug::validateRefuses_data()
{
    QTest::addColumn<QString>("slug");
    QTest::addColumn<QString>("mentions"); // text the message must contain (case-insensitive)

    QTest::newRow("empty") << QString() << u"empty"_s;
    QTest::newRow("65 chars") << QString(65, u'a') << u"64"_s;
    QTest::newRow("10 KB") << QString(10240, u'a') << u"10240"_s;
    QTest::newRow("double quote") << u"a\"b"_s << u"\""_s;
    QTest::newRow("single quote") << u"a'b"_s << u"'"_s;
    QTest::newRow("semicolon") << u"a;b"_s << u";"_s;
    QTest::newRow("sql injection") << u"\"; DROP TABLE x; --"_s << u"\""_s;
    QTest::newRow("space") << u"a b"_s << u"U+0020"_s;
    QTest::newRow("tab") << u"a\tb"_s << u"U+0009"_s;
    QTest::newRow("newline") << u"a\nb"_s << u"U+000a"_s;
    QTest::newRow("dot") << u"a.b"_s << u"."_s;
    QTest::newRow("slash") << u"a/b"_s << u"/"_s;
    QTest::newRow("accented letter") << u"café"_s << u"é"_s;
    QTest::newRow("cyrillic lookalike") << u"аpi"_s << u"а"_s; // U+0430, not Latin a
    QTest::newRow("emoji") << u"hot🔥"_s << u"letters, digits"_s;
}

void TestSlug::validateRefuses()
{
    QFETCH(QString, slug);
    QFETCH(QString, mentions);
    const auto problem = Slug::validate(slug);
    QVERIFY(problem.has_value());
    QCOMPARE(problem->code, ProblemCode::InvalidName);
    QCOMPARE(problem->pointer, u"slug"_s);
    QVERIFY(!problem->message.isEmpty());
    QVERIFY2(problem->message.contains(mentions, Qt::CaseInsensitive),
             qPrintable(u"message \"%1\" does not mention \"%2\""_s.arg(problem->message, mentions)));
    QVERIFY2(problem->message.contains(u"slug"_s, Qt::CaseInsensitive), qPrintable(problem->message));
    // A message is one sentence a user can act on, not an echo of a 10 KB input.
    QVERIFY(problem->message.size() < 300);
}

QTEST_GUILESS_MAIN(TestSlug)
#include "tst_slug.moc"
