// The Qt item models of the core: UsageEventsModel (the Usage Events list) and
// ApiKeysModel (Settings > API keys), each under QAbstractItemModelTester.
#include "apikeysmodel.h"
#include "timestamp.h"
#include "usageeventsmodel.h"

#include <QAbstractItemModelTester>
#include <QLocale>
#include <QSignalSpy>
#include <QTest>

using namespace meterdesk;
using namespace Qt::StringLiterals;

namespace {

UsageEventDefinition definitionOf(qint64 id, const QString &name, const QString &slug)
{
    UsageEventDefinition d;
    d.id = id;
    d.name = name;
    d.slug = slug;
    d.schema.fields = {SchemaField{u"quantity"_s, FieldType::Integer, true, {}}};
    return d;
}

ApiKeyInfo keyOf(qint64 id, const QString &name, const QString &prefix, qint64 createdAtUs,
                 std::optional<qint64> lastUsedAtUs = std::nullopt, std::optional<qint64> revokedAtUs = std::nullopt)
{
    ApiKeyInfo k;
    k.id = id;
    k.name = name;
    k.prefix = prefix;
    k.createdAtUs = createdAtUs;
    k.lastUsedAtUs = lastUsedAtUs;
    k.revokedAtUs = revokedAtUs;
    return k;
}

constexpr qint64 May21 = 1684661438731000; // 2023-05-21T09:30:38.731Z, the seed's timestamp

} // namespace

class TestModels : public QObject
{
    Q_OBJECT

private slots:
    void usageEventsModel_emptyAndHeaders();
    void usageEventsModel_definitions();
    void usageEventsModel_statsArriveLater();
    void usageEventsModel_endpointFollowsBaseUrl();
    void usageEventsModel_replacingDefinitions();
    void apiKeysModel_liveAndRevoked();
    void apiKeysModel_roles();
    void apiKeysModel_reset();
};

void TestModels::usageEventsModel_emptyAndHeaders()
{
    UsageEventsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), int(UsageEventsModel::ColumnCount));
    QCOMPARE(model.headerData(UsageEventsModel::Name, Qt::Horizontal).toString(), u"Name"_s);
    QCOMPARE(model.headerData(UsageEventsModel::Slug, Qt::Horizontal).toString(), u"API slug"_s);
    QCOMPARE(model.headerData(UsageEventsModel::Endpoint, Qt::Horizontal).toString(), u"Endpoint URL"_s);
    QCOMPARE(model.headerData(UsageEventsModel::Rows, Qt::Horizontal).toString(), u"Rows"_s);
    QCOMPARE(model.headerData(UsageEventsModel::LastEvent, Qt::Horizontal).toString(), u"Last event received"_s);
    QVERIFY(!model.headerData(0, Qt::Vertical).isValid());
    QVERIFY(model.definitionAt(0) == nullptr);
    // Stats and a base URL for an empty list change nothing and emit nothing invalid.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setStats({{u"nothing"_s, EventStats{3, {}, {}}}});
    model.setBaseUrl(u"http://127.0.0.1:9000"_s);
    QCOMPARE(changed.count(), 0);
    QCOMPARE(model.rowCount(), 0);
}

void TestModels::usageEventsModel_definitions()
{
    UsageEventsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.setDefinitions({definitionOf(1, u"a raw metric"_s, u"a_raw_metric"_s),
                          definitionOf(2, u"CPU hours"_s, u"cpu_hours"_s)});
    QCOMPARE(reset.count(), 1);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.rowCount(model.index(0, 0)), 0); // a table: no children
    QCOMPARE(model.index(0, UsageEventsModel::Name).data().toString(), u"a raw metric"_s);
    QCOMPARE(model.index(0, UsageEventsModel::Slug).data().toString(), u"a_raw_metric"_s);
    QCOMPARE(model.index(1, UsageEventsModel::Name).data(UsageEventsModel::RawValueRole).toString(), u"CPU hours"_s);
    QCOMPARE(model.index(1, UsageEventsModel::Endpoint).data(UsageEventsModel::SlugRole).toString(), u"cpu_hours"_s);
    QCOMPARE(model.definitionAt(1)->id, 2);
    QVERIFY(model.definitionAt(2) == nullptr);
    QVERIFY(model.definitionAt(-1) == nullptr);
    // Without a base URL the endpoint is the default listen address.
    QCOMPARE(model.index(0, UsageEventsModel::Endpoint).data().toString(),
             u"http://127.0.0.1:8080/usage/a_raw_metric"_s);
    QCOMPARE(model.index(0, UsageEventsModel::Endpoint).data(Qt::ToolTipRole).toString(),
             u"POST http://127.0.0.1:8080/usage/a_raw_metric"_s);
    // Rows is right-aligned (numbers line up); text columns are not.
    const QVariant alignment = model.index(0, UsageEventsModel::Rows).data(Qt::TextAlignmentRole);
    QVERIFY(alignment.isValid());
    QCOMPARE(qvariant_cast<Qt::Alignment>(alignment), Qt::AlignRight | Qt::AlignVCenter);
    QVERIFY(!model.index(0, UsageEventsModel::Name).data(Qt::TextAlignmentRole).isValid());
    QVERIFY(!model.index(0, UsageEventsModel::Name).data(Qt::DecorationRole).isValid());
    QVERIFY(!model.data(QModelIndex()).isValid());
}

void TestModels::usageEventsModel_statsArriveLater()
{
    UsageEventsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setDefinitions({definitionOf(1, u"a raw metric"_s, u"a_raw_metric"_s),
                          definitionOf(2, u"CPU hours"_s, u"cpu_hours"_s),
                          definitionOf(3, u"Storage"_s, u"storage"_s)});

    // Before the off-thread scan reports, the figures are "…", not a wrong 0.
    for (int row = 0; row < 3; ++row) {
        QCOMPARE(model.index(row, UsageEventsModel::Rows).data().toString(), u"…"_s);
        QCOMPARE(model.index(row, UsageEventsModel::LastEvent).data().toString(), u"…"_s);
        QVERIFY(!model.index(row, UsageEventsModel::Rows).data(UsageEventsModel::RawValueRole).isValid());
        QVERIFY(!model.index(row, UsageEventsModel::LastEvent).data(UsageEventsModel::RawValueRole).isValid());
    }

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QHash<QString, EventStats> stats;
    stats.insert(u"a_raw_metric"_s, EventStats{1234567, May21 - 5000000, May21});
    stats.insert(u"cpu_hours"_s, EventStats{0, std::nullopt, std::nullopt});
    model.setStats(stats);
    QCOMPARE(changed.count(), 1);
    const QModelIndex topLeft = changed.first().at(0).toModelIndex();
    const QModelIndex bottomRight = changed.first().at(1).toModelIndex();
    QCOMPARE(topLeft.row(), 0);
    QVERIFY(topLeft.column() <= UsageEventsModel::Rows);
    QCOMPARE(bottomRight.row(), 2);
    QVERIFY(bottomRight.column() >= UsageEventsModel::LastEvent);

    const QModelIndex rows = model.index(0, UsageEventsModel::Rows);
    QCOMPARE(rows.data().toString(), QLocale().toString(qint64(1234567)));
    QCOMPARE(rows.data(UsageEventsModel::RawValueRole).toLongLong(), 1234567);
    QCOMPARE(model.index(0, UsageEventsModel::LastEvent).data().toString(), u"2023-05-21T09:30:38.731Z"_s);
    QCOMPARE(model.index(0, UsageEventsModel::LastEvent).data(UsageEventsModel::RawValueRole).toLongLong(), May21);

    // Known and empty: 0 rows, never received.
    QCOMPARE(model.index(1, UsageEventsModel::Rows).data().toString(), QLocale().toString(qint64(0)));
    QCOMPARE(model.index(1, UsageEventsModel::Rows).data(UsageEventsModel::RawValueRole).toLongLong(), 0);
    QCOMPARE(model.index(1, UsageEventsModel::LastEvent).data().toString(), u"never"_s);
    QVERIFY(!model.index(1, UsageEventsModel::LastEvent).data(UsageEventsModel::RawValueRole).isValid());

    // Not in this scan (created after it started): still "…".
    QCOMPARE(model.index(2, UsageEventsModel::Rows).data().toString(), u"…"_s);
    QCOMPARE(model.index(2, UsageEventsModel::LastEvent).data().toString(), u"…"_s);

    // Name and slug never depend on stats.
    QCOMPARE(model.index(0, UsageEventsModel::Name).data().toString(), u"a raw metric"_s);
}

void TestModels::usageEventsModel_endpointFollowsBaseUrl()
{
    UsageEventsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setDefinitions({definitionOf(1, u"a raw metric"_s, u"a_raw_metric"_s),
                          definitionOf(2, u"CPU hours"_s, u"cpu_hours"_s)});
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setBaseUrl(u"http://127.0.0.1:43117"_s);
    QCOMPARE(changed.count(), 1);
    const QModelIndex topLeft = changed.first().at(0).toModelIndex();
    const QModelIndex bottomRight = changed.first().at(1).toModelIndex();
    QCOMPARE(topLeft, model.index(0, UsageEventsModel::Endpoint));
    QCOMPARE(bottomRight, model.index(1, UsageEventsModel::Endpoint));
    QCOMPARE(model.index(1, UsageEventsModel::Endpoint).data().toString(),
             u"http://127.0.0.1:43117/usage/cpu_hours"_s);
    QCOMPARE(model.index(1, UsageEventsModel::Endpoint).data(UsageEventsModel::RawValueRole).toString(),
             u"http://127.0.0.1:43117/usage/cpu_hours"_s);
    QCOMPARE(model.endpointUrl(u"x"_s), u"http://127.0.0.1:43117/usage/x"_s);

    // An IPv6 listen address and a base URL written with a trailing slash.
    model.setBaseUrl(u"http://[::1]:8080/"_s);
    QCOMPARE(model.index(0, UsageEventsModel::Endpoint).data().toString(), u"http://[::1]:8080/usage/a_raw_metric"_s);

    // Back to "not running": the default address again.
    model.setBaseUrl({});
    QCOMPARE(model.endpointUrl(u"cpu_hours"_s), u"http://127.0.0.1:8080/usage/cpu_hours"_s);
}

void TestModels::usageEventsModel_replacingDefinitions()
{
    UsageEventsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setDefinitions({definitionOf(1, u"a raw metric"_s, u"a_raw_metric"_s)});
    model.setStats({{u"a_raw_metric"_s, EventStats{7, May21, May21}}});
    QCOMPARE(model.index(0, UsageEventsModel::Rows).data(UsageEventsModel::RawValueRole).toLongLong(), 7);

    // A new list keeps the stats it already has for slugs that remain.
    model.setDefinitions({definitionOf(2, u"Storage"_s, u"storage"_s), definitionOf(1, u"a raw metric"_s, u"a_raw_metric"_s)});
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(0, UsageEventsModel::Rows).data().toString(), u"…"_s);
    QCOMPARE(model.index(1, UsageEventsModel::Rows).data(UsageEventsModel::RawValueRole).toLongLong(), 7);

    model.setDefinitions({});
    QCOMPARE(model.rowCount(), 0);
    QVERIFY(!model.index(0, 0).isValid());
}

void TestModels::apiKeysModel_liveAndRevoked()
{
    ApiKeysModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), int(ApiKeysModel::ColumnCount));
    QCOMPARE(model.headerData(ApiKeysModel::Name, Qt::Horizontal).toString(), u"Name"_s);
    QCOMPARE(model.headerData(ApiKeysModel::Prefix, Qt::Horizontal).toString(), u"Key"_s);
    QCOMPARE(model.headerData(ApiKeysModel::Created, Qt::Horizontal).toString(), u"Created (UTC)"_s);
    QCOMPARE(model.headerData(ApiKeysModel::LastUsed, Qt::Horizontal).toString(), u"Last used (UTC)"_s);
    QCOMPARE(model.headerData(ApiKeysModel::State, Qt::Horizontal).toString(), u"State"_s);
    QVERIFY(!model.headerData(0, Qt::Vertical).isValid());

    model.setKeys({keyOf(3, u"ci runner"_s, u"mdk_AbCdEfGh"_s, May21),
                   keyOf(7, u"old laptop"_s, u"mdk_zyxwvuts"_s, May21 - 1000000, May21 - 500000, May21)});
    QCOMPARE(model.rowCount(), 2);

    // Live, never used.
    QCOMPARE(model.index(0, ApiKeysModel::Name).data().toString(), u"ci runner"_s);
    QCOMPARE(model.index(0, ApiKeysModel::Prefix).data().toString(), u"mdk_AbCdEfGh…"_s);
    QCOMPARE(model.index(0, ApiKeysModel::Created).data().toString(), u"2023-05-21T09:30:38.731Z"_s);
    QCOMPARE(model.index(0, ApiKeysModel::LastUsed).data().toString(), u"never"_s);
    QCOMPARE(model.index(0, ApiKeysModel::State).data().toString(), u"live"_s);

    // Revoked, used once before that.
    QCOMPARE(model.index(1, ApiKeysModel::Name).data().toString(), u"old laptop"_s);
    QCOMPARE(model.index(1, ApiKeysModel::Prefix).data().toString(), u"mdk_zyxwvuts…"_s);
    QCOMPARE(model.index(1, ApiKeysModel::Created).data().toString(), u"2023-05-21T09:30:37.731Z"_s);
    QCOMPARE(model.index(1, ApiKeysModel::LastUsed).data().toString(), u"2023-05-21T09:30:38.231Z"_s);
    QCOMPARE(model.index(1, ApiKeysModel::State).data().toString(), u"revoked"_s);
}

void TestModels::apiKeysModel_roles()
{
    ApiKeysModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setKeys({keyOf(3, u"ci runner"_s, u"mdk_AbCdEfGh"_s, May21),
                   keyOf(7, u"old laptop"_s, u"mdk_zyxwvuts"_s, May21 - 1000000, May21 - 500000, May21)});

    // IdRole and LiveRole answer on every column (a view selects whole rows).
    for (int column = 0; column < ApiKeysModel::ColumnCount; ++column) {
        QCOMPARE(model.index(0, column).data(ApiKeysModel::IdRole).toLongLong(), 3);
        QCOMPARE(model.index(1, column).data(ApiKeysModel::IdRole).toLongLong(), 7);
        QCOMPARE(model.index(0, column).data(ApiKeysModel::LiveRole).toBool(), true);
        QCOMPARE(model.index(1, column).data(ApiKeysModel::LiveRole).toBool(), false);
    }

    // Raw values: the prefix without the ellipsis, times as microseconds, state as a bool.
    QCOMPARE(model.index(0, ApiKeysModel::Prefix).data(ApiKeysModel::RawValueRole).toString(), u"mdk_AbCdEfGh"_s);
    QCOMPARE(model.index(0, ApiKeysModel::Created).data(ApiKeysModel::RawValueRole).toLongLong(), May21);
    QVERIFY(!model.index(0, ApiKeysModel::LastUsed).data(ApiKeysModel::RawValueRole).isValid());
    QCOMPARE(model.index(1, ApiKeysModel::LastUsed).data(ApiKeysModel::RawValueRole).toLongLong(), May21 - 500000);
    QCOMPARE(model.index(0, ApiKeysModel::State).data(ApiKeysModel::RawValueRole).toBool(), true);
    QCOMPARE(model.index(1, ApiKeysModel::State).data(ApiKeysModel::RawValueRole).toBool(), false);

    // Other roles are empty; keyAt guards its range.
    QVERIFY(!model.index(0, ApiKeysModel::Name).data(Qt::DecorationRole).isValid());
    QVERIFY(!model.index(0, ApiKeysModel::Name).data(Qt::EditRole).isValid());
    QVERIFY(!model.data(QModelIndex(), ApiKeysModel::IdRole).isValid());
    QCOMPARE(model.keyAt(1)->name, u"old laptop"_s);
    QVERIFY(model.keyAt(1)->revokedAtUs.has_value());
    QVERIFY(model.keyAt(2) == nullptr);
    QVERIFY(model.keyAt(-1) == nullptr);
}

void TestModels::apiKeysModel_reset()
{
    ApiKeysModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.setKeys({keyOf(1, u"a"_s, u"mdk_aaaaaaaa"_s, May21)});
    QCOMPARE(reset.count(), 1);
    QCOMPARE(model.index(0, ApiKeysModel::State).data().toString(), u"live"_s);

    // The same key after a revoke: the list is replaced, the row now says so.
    model.setKeys({keyOf(1, u"a"_s, u"mdk_aaaaaaaa"_s, May21, std::nullopt, May21 + 1)});
    QCOMPARE(reset.count(), 2);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, ApiKeysModel::State).data().toString(), u"revoked"_s);
    QCOMPARE(model.index(0, ApiKeysModel::State).data(ApiKeysModel::LiveRole).toBool(), false);

    model.setKeys({});
    QCOMPARE(reset.count(), 3);
    QCOMPARE(model.rowCount(), 0);
}

QTEST_GUILESS_MAIN(TestModels)
#include "tst_models.moc"
