// SQL templates (docs/METERS.md): placeholders become bound values (a hostile
// customer_id is only a value), placeholders in literals and comments stay text,
// unknown ones are refused, anything that writes is refused and changes nothing,
// one statement at a time, row and time limits, the default template against a
// hand computation, saved templates round trip, and the SQL tab driven with real
// widgets. On a SQLite file, and with MDK_TEST_BACKEND=postgresql on a fresh
// database of the private server of scripts/pgtest (tests/testbackend.h).
#include "eventstore.h"
#include "sqltemplate.h"
#include "sqltemplatetab.h"
#include "testbackend.h"
#include "timestamp.h"
#include "workspace.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QInputDialog>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimeZone>

#include <map>

using namespace meterdesk;

namespace {
constexpr qint64 HourUs = 3600LL * 1000000;
constexpr qint64 DayUs = 24 * HourUs;
constexpr qint64 BaseUs = 1709251200LL * 1000000; // 2024-03-01T00:00:00Z
constexpr int FixtureRows = 240;                  // every 3 hours for 30 days
const QString Evil = QStringLiteral("x'; DROP TABLE usage_sqlt; --");

// Row i: customer c<i%3> (every 10th row: the hostile id), timestamp BaseUs + 3 h * i,
// calls = i + 1, cost "i.25", region eu/us.
QString customerOf(int i)
{
    return i % 10 == 9 ? Evil : QStringLiteral("c%1").arg(i % 3);
}
qint64 timestampOf(int i)
{
    return BaseUs + 3 * HourUs * i;
}
} // namespace

class TestSqlTemplate : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_db;
    UsageEventDefinition m_def;
    std::unique_ptr<SqlTemplateRunner> m_runner;

    qint64 rowCount()
    {
        QString error;
        auto ws = Workspace::open(m_db, &error);
        return ws ? ws->rowCount(m_def) : -2;
    }
    // What a write would change: the tables there are, and SQLite's user_version.
    QString schemaFingerprint()
    {
        QString error;
        auto ws = Workspace::open(m_db, &error);
        if (!ws)
            return error;
        QSqlQuery q(ws->database());
        const bool pg = ws->dialect().kind() == SqlDialect::Kind::PostgreSQL;
        q.exec(pg ? QStringLiteral("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables "
                                   "WHERE table_schema = current_schema()")
                  : QStringLiteral("SELECT group_concat(name, ',') || ';' || (SELECT user_version FROM pragma_user_version) "
                                   "FROM (SELECT name FROM sqlite_master ORDER BY name)"));
        return q.next() ? q.value(0).toString() : q.lastError().text();
    }
    SqlRunResult run(const QString &sql, qint64 from = BaseUs, qint64 to = BaseUs + 30 * DayUs,
                     const QString &customer = QStringLiteral("c1"), SqlRunLimits limits = {})
    {
        return m_runner->run(m_def, sql, {from, to, customer}, limits);
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QString error;
        m_db = test::workspaceLocation(m_dir, QStringLiteral("sqlt.db"), &error);
        QVERIFY2(!m_db.isEmpty(), qPrintable(error));
        auto ws = Workspace::open(m_db, &error);
        QVERIFY2(ws, qPrintable(error));
        m_def.name = QStringLiteral("sqlt");
        m_def.schema.fields = {{QStringLiteral("region"), FieldType::String, false, {}},
                               {QStringLiteral("calls"), FieldType::Integer, false, {}},
                               {QStringLiteral("cost"), FieldType::Decimal, false, {}}};
        QVERIFY(ws->createDefinition(m_def).isEmpty());
        EventStore store(*ws);
        QVERIFY(ws->beginWrite(&error));
        QList<ValidatedEvent> events;
        for (int i = 0; i < FixtureRows; ++i) {
            ValidatedEvent e;
            e.customerId = customerOf(i);
            e.timestampUs = timestampOf(i);
            const QString region = i % 2 ? QStringLiteral("us") : QStringLiteral("eu");
            e.values = {region, qint64(i + 1), QStringLiteral("%1.25").arg(i)};
            e.dataJson = QStringLiteral("{\"calls\":%1,\"cost\":\"%2.25\",\"region\":\"%3\"}").arg(i + 1).arg(i).arg(region).toUtf8();
            events.append(e);
        }
        const QList<StoreResult> results = store.storeMany(m_def, events, QStringLiteral("api"), BaseUs);
        QCOMPARE(results.size(), events.size());
        QVERIFY2(results.last().error.isEmpty(), qPrintable(results.last().error));
        QVERIFY(ws->commit(&error));
        m_runner = SqlTemplateRunner::open(m_db, &error);
        QVERIFY2(m_runner, qPrintable(error));
        QCOMPARE(m_runner->dialect(), ws->dialect().kind());
    }

    void cleanupTestCase() { m_runner.reset(); }

    void tokenizerKeepsLiteralsAndComments()
    {
        const QString sql = QStringLiteral("SELECT 'a;{{x}}' AS s, \"{{y}}\" -- {{z}};\n/* {{w}} ; */ FROM {{table}} "
                                           "WHERE note = 'it''s {{start_date}}'");
        QList<SqlTemplates::TokenKind> kinds;
        QStringList texts;
        for (const SqlTemplates::Token &t : SqlTemplates::tokenize(sql)) {
            kinds.append(t.kind);
            texts.append(sql.mid(t.start, t.length));
        }
        QCOMPARE(texts.join(QString()), sql); // tokens cover the text exactly
        QCOMPARE(texts.value(1), QStringLiteral("'a;{{x}}'"));
        QCOMPARE(kinds.value(1), SqlTemplates::TokenKind::String);
        QCOMPARE(texts.value(3), QStringLiteral("\"{{y}}\""));
        QCOMPARE(kinds.value(3), SqlTemplates::TokenKind::Identifier);
        QCOMPARE(kinds.value(5), SqlTemplates::TokenKind::Comment);
        QVERIFY(!kinds.contains(SqlTemplates::TokenKind::Semicolon));
        QCOMPARE(kinds.count(SqlTemplates::TokenKind::Placeholder), 1); // only {{table}}
        QCOMPARE(texts.last(), QStringLiteral("'it''s {{start_date}}'"));
        // PostgreSQL dollar quotes and E'' strings; $1 is no tag.
        const QString pg = QStringLiteral("SELECT $q$ {{a}}; $q$, E'\\' {{b}}', $1 {{table}}");
        int placeholders = 0;
        for (const SqlTemplates::Token &t : SqlTemplates::tokenize(pg))
            placeholders += t.kind == SqlTemplates::TokenKind::Placeholder ? 1 : 0;
        QCOMPARE(placeholders, 1);
        QVERIFY(SqlTemplates::check(pg).isEmpty());
    }

    void placeholdersInLiteralsAreUntouched()
    {
        const SqlRunResult r = run(QStringLiteral("SELECT '{{start_date}}' AS a, '{{nope}}' AS b, 'why?' AS c, "
                                                  "{{customer.external_id}} AS d -- {{nope2}}\n"
                                                  "/* {{customer.external_id}} */"));
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.rows.size(), 1);
        QCOMPARE(r.rows[0].value(0).toString(), QStringLiteral("{{start_date}}"));
        QCOMPARE(r.rows[0].value(1).toString(), QStringLiteral("{{nope}}"));
        QCOMPARE(r.rows[0].value(2).toString(), QStringLiteral("why?"));
        QCOMPARE(r.rows[0].value(3).toString(), QStringLiteral("c1"));
        QString error;
        const auto e = SqlTemplates::expand(QStringLiteral("SELECT '{{start_date}}', {{ start_date }}"), m_def,
                                            {BaseUs, BaseUs + DayUs, {}}, &error);
        QVERIFY2(e, qPrintable(error));
        QCOMPARE(e->binds, QVariantList{BaseUs});
        QCOMPARE(e->sql, QStringLiteral("SELECT '{{start_date}}', CAST(? AS BIGINT)"));
        // Comments do not reach the database (Qt's PostgreSQL driver would take a "?" or
        // ":name" in one for a parameter); their line breaks do.
        const SqlRunResult c = run(QStringLiteral("SELECT 1 AS a -- why? note:foo\n, /* ?\n:x */ {{customer.external_id}} AS b"));
        QVERIFY2(c.error.isEmpty(), qPrintable(c.error));
        QCOMPARE(c.rows[0].value(1).toString(), QStringLiteral("c1"));
        const auto stripped = SqlTemplates::expand(QStringLiteral("SELECT 1 -- a\n/* b\nc */ FROM x"), m_def, {}, &error);
        QCOMPARE(stripped->sql, QStringLiteral("SELECT 1  \n \n FROM x"));
    }

    void placeholdersAreBound()
    {
        const SqlRunResult r = run(QStringLiteral("SELECT {{start_date}} AS s, {{end_date}} AS e, {{start_date_iso}} AS si, "
                                                  "{{end_date_iso}} AS ei, {{customer.external_id}} AS c"),
                                   BaseUs + 1, BaseUs + DayUs, QStringLiteral("c'2"));
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.columns, (QStringList{QStringLiteral("s"), QStringLiteral("e"), QStringLiteral("si"),
                                         QStringLiteral("ei"), QStringLiteral("c")}));
        QCOMPARE(r.rows[0].value(0).toLongLong(), BaseUs + 1);
        QCOMPARE(r.rows[0].value(1).toLongLong(), BaseUs + DayUs);
        QCOMPARE(r.rows[0].value(2).toString(), QStringLiteral("2024-03-01T00:00:00.000001Z"));
        QCOMPARE(r.rows[0].value(3).toString(), QStringLiteral("2024-03-02T00:00:00.000Z"));
        QCOMPARE(r.rows[0].value(4).toString(), QStringLiteral("c'2"));
    }

    void hostileCustomerIsJustAValue()
    {
        const qint64 before = rowCount();
        QCOMPARE(before, qint64(FixtureRows));
        const SqlRunResult r = run(QStringLiteral("SELECT customer_id, count(*) AS n FROM {{table}} "
                                                  "WHERE customer_id = {{customer.external_id}} GROUP BY customer_id"),
                                   BaseUs, BaseUs + 30 * DayUs, Evil);
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.rows.size(), 1);
        QCOMPARE(r.rows[0].value(0).toString(), Evil);
        QCOMPARE(r.rows[0].value(1).toLongLong(), qint64(FixtureRows / 10)); // rows 9, 19, 29, …
        QCOMPARE(rowCount(), before); // the table is still there, untouched
    }

    void unknownPlaceholdersAreRefused()
    {
        const SqlRunResult r = run(QStringLiteral("SELECT {{start_date}}, {{customer.id}}, {{ foo }}, {{foo}}"));
        QVERIFY(r.refused);
        QVERIFY2(r.error.contains(QLatin1String("{{customer.id}}")) && r.error.contains(QLatin1String("{{foo}}")),
                 qPrintable(r.error));
        QVERIFY(r.error.contains(QLatin1String("Unknown placeholders")));
        QVERIFY(r.rows.isEmpty());
        const SqlRunResult open = run(QStringLiteral("SELECT {{start_date"));
        QVERIFY(open.refused);
        QVERIFY2(open.error.contains(QLatin1String("not closed")), qPrintable(open.error));
    }

    void customerAndPeriodAreRequired()
    {
        SqlRunResult r = run(QStringLiteral("SELECT {{customer.external_id}}"), BaseUs, BaseUs + DayUs, QString());
        QVERIFY(r.refused);
        QVERIFY2(r.error.contains(QLatin1String("Choose a customer")), qPrintable(r.error));
        r = run(QStringLiteral("SELECT {{start_date}}"), BaseUs, BaseUs);
        QVERIFY(r.refused);
        QVERIFY2(r.error.contains(QLatin1String("period")), qPrintable(r.error));
        r = run(QStringLiteral("SELECT 1 AS one"), BaseUs, BaseUs, QString()); // uses neither: runs
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
    }

    void writesAreRefused_data()
    {
        QTest::addColumn<QString>("sql");
        QTest::newRow("insert") << QStringLiteral("INSERT INTO {{table}} (customer_id, \"timestamp\", data, received_at, source) "
                                                  "VALUES ('z', 1, '{}', 1, 'x')");
        QTest::newRow("update") << QStringLiteral("UPDATE {{table}} SET customer_id = 'z'");
        QTest::newRow("delete") << QStringLiteral("  /* tidy */ delete FROM {{table}}");
        QTest::newRow("drop") << QStringLiteral("DROP TABLE {{table}}");
        QTest::newRow("attach") << QStringLiteral("ATTACH DATABASE 'other.db' AS other");
        QTest::newRow("pragma write") << QStringLiteral("PRAGMA user_version = 7");
        QTest::newRow("pragma off") << QStringLiteral("PRAGMA query_only = OFF");
        QTest::newRow("create") << QStringLiteral("CREATE TABLE sneaky (x INTEGER)");
        QTest::newRow("create temp") << QStringLiteral("CREATE TEMP TABLE sneaky (x INTEGER)");
        QTest::newRow("replace") << QStringLiteral("REPLACE INTO {{table}} (id) VALUES (1)");
        QTest::newRow("with delete") << QStringLiteral("WITH doomed AS (SELECT id FROM {{table}}) "
                                                       "DELETE FROM {{table}} WHERE id IN (SELECT id FROM doomed)");
        QTest::newRow("with update") << QStringLiteral("WITH x AS (SELECT 1) UPDATE {{table}} SET customer_id = 'z'");
        // Passes the keyword check: the database's read-only fence refuses it (SQLite cannot parse it).
        QTest::newRow("data-modifying with") << QStringLiteral("WITH d AS (DELETE FROM {{table}} RETURNING id) SELECT count(*) FROM d");
        QTest::newRow("select for update") << QStringLiteral("SELECT id FROM {{table}} FOR UPDATE");
        QTest::newRow("vacuum") << QStringLiteral("VACUUM");
        QTest::newRow("commit first") << QStringLiteral("COMMIT");
    }

    void writesAreRefused()
    {
        QFETCH(QString, sql);
        const qint64 before = rowCount();
        const QString schema = schemaFingerprint();
        const SqlRunResult r = run(sql);
        QVERIFY2(!r.error.isEmpty(), "a write ran");
        qInfo("%s", qPrintable(r.error));
        QVERIFY(r.rows.isEmpty());
        QCOMPARE(rowCount(), before);
        QCOMPARE(schemaFingerprint(), schema);
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QSqlQuery q(ws->database());
        QVERIFY(q.exec(QStringLiteral("SELECT count(*) FROM usage_sqlt WHERE customer_id = 'z'")) && q.next());
        QCOMPARE(q.value(0).toLongLong(), 0);
        // The runner's connection still reads afterwards.
        const SqlRunResult again = run(QStringLiteral("SELECT count(*) FROM {{table}}"));
        QVERIFY2(again.error.isEmpty(), qPrintable(again.error));
        QCOMPARE(again.rows[0].value(0).toLongLong(), before);
    }

    // Behind the keyword check: the connection (SQLite) or transaction (PostgreSQL)
    // itself refuses to write.
    void readOnlyBelowTheChecks()
    {
        const qint64 before = rowCount();
        if (m_runner->dialect() == SqlDialect::Kind::SQLite) {
            QStringList ours;
            for (const QString &name : QSqlDatabase::connectionNames())
                if (name.startsWith(QLatin1String("meterdesk-sql-")))
                    ours.append(name);
            QCOMPARE(ours.size(), 1);
            QSqlDatabase db = QSqlDatabase::database(ours.first(), false);
            for (const QString &sql : {QStringLiteral("DELETE FROM usage_sqlt"), QStringLiteral("CREATE TEMP TABLE t (x)"),
                                       QStringLiteral("CREATE TABLE t (x)")}) {
                QSqlQuery q(db);
                QVERIFY2(!q.exec(sql), qPrintable(sql));
                qInfo("%s: %s", qPrintable(sql), qPrintable(q.lastError().databaseText()));
            }
        } else {
            const SqlRunResult r = run(QStringLiteral("SELECT id FROM {{table}} FOR UPDATE"));
            QVERIFY(!r.refused);
            QVERIFY2(r.error.contains(QLatin1String("read-only transaction")), qPrintable(r.error));
        }
        QCOMPARE(rowCount(), before);
    }

    void writeRefusalSaysReadOnly()
    {
        const SqlRunResult r = run(QStringLiteral("DELETE FROM {{table}}"));
        QVERIFY(r.refused);
        QVERIFY2(r.error.startsWith(QLatin1String("Read-only: this query would write")), qPrintable(r.error));
    }

    void oneStatementAtATime()
    {
        const qint64 before = rowCount();
        for (const QString &sql : {QStringLiteral("SELECT 1; DELETE FROM {{table}}"), QStringLiteral("SELECT 1;\nSELECT 2"),
                                   QStringLiteral("SELECT 1; -- fine\n; DROP TABLE {{table}}")}) {
            const SqlRunResult r = run(sql);
            QVERIFY2(r.refused, qPrintable(sql));
            QVERIFY2(r.error.contains(QLatin1String("One statement at a time")), qPrintable(r.error));
        }
        QCOMPARE(rowCount(), before);
        // A final ";" (and a comment after it), or one in a literal, is still one statement.
        SqlRunResult r = run(QStringLiteral("SELECT ';' AS s; -- done"));
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.rows[0].value(0).toString(), QStringLiteral(";"));
        r = run(QStringLiteral("   "));
        QVERIFY(r.refused);
        QVERIFY(r.error.contains(QLatin1String("Nothing to run")));
    }

    void databaseErrorsAreShownAsGiven()
    {
        const SqlRunResult r = run(QStringLiteral("SELECT no_such_column FROM {{table}}"));
        QVERIFY(!r.refused);
        QVERIFY2(r.error.contains(QLatin1String("no_such_column")), qPrintable(r.error));
    }

    void defaultTemplateMatchesHandComputation()
    {
        const SqlTemplate t = SqlTemplates::defaultTemplate(m_def, m_runner->dialect());
        QCOMPARE(t.name, QStringLiteral("Daily SUM per customer"));
        QVERIFY(t.sql.contains(QLatin1String("\"data.calls\"")));
        // c1 from 2024-03-02T06:00Z to 2024-03-05T00:00Z.
        const qint64 from = BaseUs + DayUs + 6 * HourUs;
        const qint64 to = BaseUs + 4 * DayUs;
        std::map<QString, qint64> expected; // day -> SUM(calls)
        for (int i = 0; i < FixtureRows; ++i) {
            if (customerOf(i) != QLatin1String("c1") || timestampOf(i) < from || timestampOf(i) >= to)
                continue;
            expected[QDateTime::fromMSecsSinceEpoch(timestampOf(i) / 1000, QTimeZone::utc()).date().toString(Qt::ISODate)] += i + 1;
        }
        QCOMPARE(expected.size(), size_t(3));
        // Spelled out once, so the loop above is checked too: 2 March holds rows 10 and 13 of c1.
        QCOMPARE(expected[QStringLiteral("2024-03-02")], qint64(11 + 14));
        const SqlRunResult r = run(t.sql, from, to, QStringLiteral("c1"));
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.columns, (QStringList{QStringLiteral("customer_id"), QStringLiteral("day"), QStringLiteral("sum_calls")}));
        QCOMPARE(r.rows.size(), qsizetype(expected.size()));
        int k = 0;
        for (const auto &[day, sum] : expected) {
            QCOMPARE(r.rows[k].value(0).toString(), QStringLiteral("c1"));
            QCOMPARE(r.rows[k].value(1).toString(), day);
            QCOMPARE(r.rows[k].value(2).toLongLong(), sum);
            ++k;
        }
        // No numeric field: a daily COUNT.
        UsageEventDefinition plain = m_def;
        plain.schema.fields = {m_def.schema.fields[0]};
        const SqlTemplate c = SqlTemplates::defaultTemplate(plain, m_runner->dialect());
        QCOMPARE(c.name, QStringLiteral("Daily COUNT per customer"));
        const SqlRunResult counted = run(c.sql, from, to, QStringLiteral("c1"));
        QVERIFY2(counted.error.isEmpty(), qPrintable(counted.error));
        QCOMPARE(counted.rows.size(), qsizetype(3));
        QCOMPARE(counted.rows[0].value(2).toLongLong(), 2);
    }

    void rowLimit()
    {
        const QString sql = QStringLiteral("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %1) "
                                           "SELECT i FROM n ORDER BY i");
        SqlRunLimits limits;
        limits.maxRows = 100;
        SqlRunResult r = run(sql.arg(101), BaseUs, BaseUs + DayUs, {}, limits);
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.rows.size(), qsizetype(100));
        QVERIFY(r.truncated);
        QCOMPARE(r.rows.last().value(0).toLongLong(), 100);
        r = run(sql.arg(100), BaseUs, BaseUs + DayUs, {}, limits);
        QCOMPARE(r.rows.size(), qsizetype(100));
        QVERIFY(!r.truncated);
        QCOMPARE(SqlRunLimits{}.maxRows, 10000);
    }

    void timeLimitAndCancel()
    {
        SqlRunLimits limits;
        limits.timeoutMs = 300;
        const QString slow = m_runner->dialect() == SqlDialect::Kind::SQLite
            ? QStringLiteral("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000000) "
                             "SELECT count(*) FROM n")
            : QStringLiteral("SELECT pg_sleep(5)");
        QElapsedTimer timer;
        timer.start();
        SqlRunResult r = run(slow, BaseUs, BaseUs + DayUs, {}, limits);
        qInfo("stopped after %lld ms: %s", timer.elapsed(), qPrintable(r.error));
        QVERIFY(timer.elapsed() < 3000);
        QVERIFY(r.rows.isEmpty());
        QVERIFY2(r.error.contains(QLatin1String("time limit")) || r.error.contains(QLatin1String("statement timeout")),
                 qPrintable(r.error));
        {
            // Cancel well inside the 30 s default limit: SQLite stops between steps,
            // PostgreSQL on the server (pg_sleep(5) would otherwise run 5 s).
            std::atomic_bool cancel = false;
            std::unique_ptr<QThread> canceller(QThread::create([&cancel] {
                QThread::msleep(200);
                cancel = true;
            }));
            canceller->start();
            timer.restart();
            r = m_runner->run(m_def, slow, {BaseUs, BaseUs + DayUs, {}}, SqlRunLimits{}, &cancel);
            canceller->wait();
            QCOMPARE(r.error, QStringLiteral("Cancelled."));
            QVERIFY(timer.elapsed() < 3000);
        }
        // The connection is fine afterwards.
        r = run(QStringLiteral("SELECT count(*) AS n FROM {{table}}"));
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.rows[0].value(0).toLongLong(), qint64(FixtureRows));
    }

    void storageRoundTrip()
    {
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QVERIFY2(ws, qPrintable(error));
        SqlTemplateStore store(*ws);
        QCOMPARE(store.list(m_def.slug, &error)->size(), 0);
        const auto a = store.create(m_def.slug, QStringLiteral("  Calls by day "), QStringLiteral("SELECT 1"), &error);
        QVERIFY2(a, qPrintable(error));
        QCOMPARE(a->name, QStringLiteral("Calls by day"));
        const auto b = store.create(m_def.slug, QStringLiteral("Another"), QStringLiteral("SELECT 2"), &error);
        QVERIFY2(b, qPrintable(error));
        QVERIFY(!store.create(m_def.slug, QStringLiteral("calls BY day"), QStringLiteral("SELECT 3"), &error));
        QVERIFY2(error.contains(QLatin1String("already exists")), qPrintable(error));
        QVERIFY(!store.create(m_def.slug, QStringLiteral("  "), QStringLiteral("SELECT 3"), &error));
        // Names are unique per usage event only.
        const auto other = store.create(QStringLiteral("other_event"), QStringLiteral("Calls by day"), QStringLiteral("SELECT 4"), &error);
        QVERIFY2(other, qPrintable(error));
        QVERIFY(store.update(a->id, QStringLiteral("SELECT 10"), &error));
        QVERIFY(!store.rename(a->id, QStringLiteral("another"), &error));
        QVERIFY2(error.contains(QLatin1String("already exists")), qPrintable(error));
        QVERIFY2(store.rename(a->id, QStringLiteral("Calls per day"), &error), qPrintable(error));
        QVERIFY2(store.rename(a->id, QStringLiteral("calls per DAY"), &error), qPrintable(error)); // its own name, recased
        auto listed = store.list(m_def.slug, &error);
        QVERIFY2(listed, qPrintable(error));
        QCOMPARE(listed->size(), 2);
        QCOMPARE(listed->at(0).name, QStringLiteral("Another"));
        QCOMPARE(listed->at(1).name, QStringLiteral("calls per DAY"));
        QCOMPARE(listed->at(1).sql, QStringLiteral("SELECT 10"));
        QVERIFY(listed->at(1).updatedAtUs >= listed->at(1).createdAtUs);
        QVERIFY(store.remove(a->id, &error));
        QVERIFY(!store.remove(a->id, &error));
        QVERIFY(store.remove(b->id, &error));
        QCOMPARE(store.list(m_def.slug, &error)->size(), 0);
        QCOMPARE(store.list(QStringLiteral("other_event"), &error)->size(), 1);
        QVERIFY(store.remove(other->id, &error));
    }

    void sqlTabLoadsWhenShown()
    {
        SqlTemplateTab tab(m_db);
        QSignalSpy listed(&tab, &SqlTemplateTab::templatesChanged);
        tab.showDefinition(m_def); // hidden, as on a page showing another tab
        QVERIFY(!listed.wait(300));
        tab.show();
        QVERIFY(listed.wait(10000));
        QCOMPARE(tab.findChild<QComboBox *>(QStringLiteral("sqlTemplates"))->count(), 1);
        QTRY_COMPARE(tab.findChild<QComboBox *>(QStringLiteral("sqlCustomer"))->count(), 4);
    }

    void sqlTabRunsAndRefuses()
    {
        SqlTemplateTab tab(m_db);
        QAbstractItemModelTester tester(tab.resultsModel(), QAbstractItemModelTester::FailureReportingMode::Fatal);
        tab.resize(1100, 700);
        tab.show();
        QApplication::setActiveWindow(&tab);
        QVERIFY(QTest::qWaitForWindowActive(&tab));
        QSignalSpy listed(&tab, &SqlTemplateTab::templatesChanged);
        tab.showDefinition(m_def);
        QVERIFY(listed.wait(10000));
        auto *editor = tab.findChild<QPlainTextEdit *>(QStringLiteral("sqlEditor"));
        auto *status = tab.findChild<QLabel *>(QStringLiteral("sqlStatus"));
        auto *templates = tab.findChild<QComboBox *>(QStringLiteral("sqlTemplates"));
        auto *customer = tab.findChild<QComboBox *>(QStringLiteral("sqlCustomer"));
        auto *view = tab.findChild<QTableView *>(QStringLiteral("sqlResults"));
        if (!editor || !status || !templates || !customer || !view)
            QFAIL("the SQL tab lacks a widget this test drives");
        // Never empty: the default template, and the table's customers to choose from.
        QCOMPARE(templates->count(), 1);
        QVERIFY(templates->currentText().contains(QLatin1String("Daily SUM per customer")));
        QVERIFY(editor->toPlainText().contains(QLatin1String("{{customer.external_id}}")));
        QTRY_COMPARE(customer->count(), 4);
        QVERIFY(customer->findText(Evil) >= 0);

        // The default template for c1 over three days, with Ctrl+Enter.
        customer->setEditText(QStringLiteral("c1"));
        tab.setPeriod(BaseUs + DayUs + 6 * HourUs, BaseUs + 4 * DayUs);
        QSignalSpy finished(&tab, &SqlTemplateTab::runFinished);
        editor->setFocus();
        QTest::keyClick(editor, Qt::Key_Return, Qt::ControlModifier);
        QVERIFY(finished.wait(10000));
        QCOMPARE(view->model()->rowCount(), 3);
        QCOMPARE(view->model()->index(0, 1).data().toString(), QStringLiteral("2024-03-02"));
        QCOMPARE(view->model()->index(0, 2).data().toLongLong(), 25);
        QVERIFY2(status->text().contains(QLatin1String("3 rows")) && status->text().contains(QLatin1String("ms")),
                 qPrintable(status->text()));

        // Typed: a query of our own.
        editor->selectAll();
        QTest::keyClicks(editor, QStringLiteral("SELECT customer_id, count(*) AS n FROM {{table}} GROUP BY customer_id ORDER BY 1"));
        QTest::keyClick(editor, Qt::Key_Enter, Qt::ControlModifier);
        QVERIFY(finished.wait(10000));
        QCOMPARE(view->model()->rowCount(), 4);
        QCOMPARE(view->model()->headerData(1, Qt::Horizontal).toString(), QStringLiteral("n"));
        QCOMPARE(view->model()->index(0, 0).data().toString(), QStringLiteral("c0"));
        // Copy and export what is shown.
        QTest::mouseClick(tab.findChild<QPushButton *>(QStringLiteral("sqlCopy")), Qt::LeftButton);
        QVERIFY(QGuiApplication::clipboard()->text().startsWith(QLatin1String("customer_id\tn\nc0\t")));
        QString error;
        const QString csv = m_dir.filePath(QStringLiteral("results.csv"));
        QVERIFY2(tab.writeCsv(csv, &error), qPrintable(error));
        QFile file(csv);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray body = file.readAll();
        QVERIFY(body.startsWith("customer_id,n\r\nc0,"));
        QVERIFY2(body.contains("\r\nx'; DROP TABLE usage_sqlt; --,24\r\n"), body.constData());

        // A write: refused inline, in red, the table unchanged.
        const qint64 before = rowCount();
        editor->setPlainText(QStringLiteral("DELETE FROM {{table}}"));
        QTest::mouseClick(tab.findChild<QPushButton *>(QStringLiteral("sqlRun")), Qt::LeftButton);
        QVERIFY(finished.wait(10000));
        QVERIFY2(status->text().startsWith(QLatin1String("Read-only: this query would write")), qPrintable(status->text()));
        QVERIFY(status->styleSheet().contains(QLatin1String("#d32f2f")));
        QCOMPARE(view->model()->rowCount(), 0);
        QCOMPARE(rowCount(), before);

        // Save as, then delete with confirmation.
        editor->setPlainText(QStringLiteral("SELECT count(*) AS n FROM {{table}}"));
        QTest::mouseClick(tab.findChild<QPushButton *>(QStringLiteral("sqlSaveAs")), Qt::LeftButton);
        auto *nameDialog = tab.findChild<QInputDialog *>(QStringLiteral("sqlNameDialog"));
        QVERIFY(nameDialog);
        nameDialog->setTextValue(QStringLiteral("All rows"));
        nameDialog->accept();
        QVERIFY(listed.wait(10000));
        QCOMPARE(templates->count(), 2);
        QCOMPARE(templates->currentText(), QStringLiteral("All rows"));
        {
            auto ws = Workspace::open(m_db, &error);
            SqlTemplateStore store(*ws);
            const auto saved = store.list(m_def.slug, &error);
            QCOMPARE(saved->size(), 1);
            QCOMPARE(saved->at(0).sql, QStringLiteral("SELECT count(*) AS n FROM {{table}}"));
        }
        QTest::mouseClick(tab.findChild<QPushButton *>(QStringLiteral("sqlDelete")), Qt::LeftButton);
        auto *confirm = tab.findChild<QMessageBox *>(QStringLiteral("sqlDeleteConfirm"));
        QVERIFY(confirm);
        QTest::mouseClick(confirm->button(QMessageBox::Yes), Qt::LeftButton);
        QVERIFY(listed.wait(10000));
        QCOMPARE(templates->count(), 1);
        QVERIFY(templates->currentText().contains(QLatin1String("(default)")));
        {
            auto ws = Workspace::open(m_db, &error);
            SqlTemplateStore store(*ws);
            QCOMPARE(store.list(m_def.slug, &error)->size(), 0);
        }
    }
};

QTEST_MAIN(TestSqlTemplate)
#include "tst_sqltemplate.moc"
