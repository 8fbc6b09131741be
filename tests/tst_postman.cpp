// Postman Collection v2.1 and environment files (models/postman): a fixture written
// by hand from the format's documentation imports with its headers, auth and body;
// what Meterdesk writes reads back the same.
#include "postman.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace meterdesk;

namespace {
QByteArray fixture(const char *name)
{
    QFile f(QStringLiteral(MDK_TEST_DATA "/postman/") + QLatin1String(name));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("missing fixture %s", name);
    return f.readAll();
}
} // namespace

class TestPostman : public QObject
{
    Q_OBJECT

private slots:
    void importsTheHandWrittenCollection()
    {
        QString error;
        const auto c = Postman::readCollection(fixture("meterdesk.postman_collection.json"), &error);
        QVERIFY2(c, qPrintable(error));
        QCOMPARE(c->name, QStringLiteral("Zenskar usage events"));
        QCOMPARE(c->requests.size(), 5);
        QCOMPARE(c->variables.size(), 2);
        QCOMPARE(c->variables[0], qMakePair(QStringLiteral("baseUrl"), QStringLiteral("http://127.0.0.1:8080")));

        // A folder's request: headers in order (the disabled one kept, switched off),
        // the collection's bearer auth inherited, the raw JSON body as written.
        const SavedRequest &raw = c->requests[0];
        QCOMPARE(raw.name, QStringLiteral("Ingest / Send raw metric"));
        QCOMPARE(raw.request.method, QStringLiteral("POST"));
        QCOMPARE(raw.request.url, QStringLiteral("{{baseUrl}}/usage/test_1"));
        const QList<HttpHeader> expected{{QStringLiteral("organisation"), QStringLiteral("{{organisation}}")},
                                         {QStringLiteral("Content-Type"), QStringLiteral("application/json")},
                                         {QStringLiteral("X-Debug"), QStringLiteral("1"), false},
                                         {QStringLiteral("Authorization"), QStringLiteral("Bearer {{apiKey}}")}};
        QCOMPARE(raw.request.headers, expected);
        QVERIFY(raw.request.body.startsWith(QLatin1String("{\n    \"data\": {\n        \"cpu_usage_hours_per_day\": \"5\"")));

        // apikey auth in a header; a URL given as a string; the method upper-cased.
        const SavedRequest &apiKey = c->requests[1];
        QCOMPARE(apiKey.request.method, QStringLiteral("POST"));
        QCOMPARE(apiKey.request.url, QStringLiteral("{{baseUrl}}/usage/test_1"));
        QCOMPARE(apiKey.request.header(u"x-api-key"), QStringLiteral("{{apiKey}}"));
        QVERIFY(!apiKey.request.hasHeader(u"Authorization"));

        // noauth overrides the collection's auth; a URL object without raw is rebuilt.
        const SavedRequest &list = c->requests[2];
        QCOMPARE(list.request.url, QStringLiteral("http://127.0.0.1:8080/usage/test_1"));
        QVERIFY(!list.request.hasHeader(u"Authorization"));
        QVERIFY(list.request.body.isEmpty());

        // basic auth; urlencoded body without the disabled pair.
        const SavedRequest &form = c->requests[3];
        QCOMPARE(form.request.header(u"authorization"), QStringLiteral("Basic YWxpY2U6czNjcmV0"));
        QCOMPARE(form.request.body, QStringLiteral("customer%20id=a%26b&plan=pro"));
        QCOMPARE(form.request.url, QStringLiteral("https://api.example.com/login?x=1"));

        // A request given as a bare URL string.
        QCOMPARE(c->requests[4].request.method, QStringLiteral("GET"));
        QCOMPARE(c->requests[4].request.url, QStringLiteral("http://127.0.0.1:8080/healthz"));
    }

    void exportReadsBack()
    {
        QString error;
        const auto c = Postman::readCollection(fixture("meterdesk.postman_collection.json"), &error);
        QVERIFY(c);
        const QByteArray written = Postman::writeCollection(*c);
        const QJsonObject root = QJsonDocument::fromJson(written).object();
        QCOMPARE(root.value(QLatin1String("info")).toObject().value(QLatin1String("schema")).toString(),
                 QStringLiteral("https://schema.getpostman.com/json/collection/v2.1.0/collection.json"));
        const auto back = Postman::readCollection(written, &error);
        QVERIFY2(back, qPrintable(error));
        QCOMPARE(*back, *c);
        QVERIFY(written.contains("\"language\": \"json\""));
        QVERIFY(written.contains("\"disabled\": true"));
    }

    void refusesWhatIsNotACollection_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << QByteArray("{nope") << QStringLiteral("not a JSON object");
        QTest::newRow("no info") << QByteArray("{\"item\":[]}") << QStringLiteral("not a Postman collection");
        QTest::newRow("v1") << QByteArray("{\"info\":{\"schema\":\"https://schema.getpostman.com/json/collection/v1.0.0/collection.json\"},\"item\":[]}")
                            << QStringLiteral("v1.0.0");
    }

    void refusesWhatIsNotACollection()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, expected);
        QString error;
        QVERIFY(!Postman::readCollection(json, &error));
        QVERIFY2(error.contains(expected), qPrintable(error));
    }

    void environments()
    {
        QString name, error;
        const auto values = Postman::readEnvironment(fixture("local.postman_environment.json"), &name, &error);
        QVERIFY2(values, qPrintable(error));
        QCOMPARE(name, QStringLiteral("Meterdesk local"));
        QCOMPARE(values->size(), 3); // the disabled one is left out
        QCOMPARE(values->at(2), qMakePair(QStringLiteral("apiKey"), QStringLiteral("mdk_live_example")));
        QString nameBack;
        const auto back = Postman::readEnvironment(Postman::writeEnvironment(name, *values), &nameBack, &error);
        QVERIFY(back);
        QCOMPARE(*back, *values);
        QCOMPARE(nameBack, name);
        QVERIFY(!Postman::readEnvironment("{\"name\":\"x\"}", nullptr, &error));
    }
};

QTEST_APPLESS_MAIN(TestPostman)
#include "tst_postman.moc"
