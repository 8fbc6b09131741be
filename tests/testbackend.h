#pragma once

// Which database a parametrized suite runs on. The same executable runs twice under
// ctest: as is on SQLite files, and with MDK_TEST_BACKEND=postgresql on the private
// server of scripts/pgtest (MDK_TEST_POSTGRES_URL, default its usual address), where
// every location is a fresh database so tests and runs never share state.

#include <QAtomicInteger>
#include <QCoreApplication>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <QTemporaryDir>
#include <QUrl>
#include <QUuid>

namespace meterdesk::test {

inline bool onPostgres()
{
    return qEnvironmentVariable("MDK_TEST_BACKEND") == QLatin1String("postgresql");
}

inline QString postgresUrl()
{
    return qEnvironmentVariable("MDK_TEST_POSTGRES_URL",
                                QStringLiteral("postgresql://postgres@127.0.0.1:55432/meterdesk_test"));
}

// Runs one statement on the test server's maintenance database; the error, or empty.
inline QString postgresAdmin(const QString &sql)
{
    const QUrl url(postgresUrl());
    const QString name = QStringLiteral("mdk-test-admin");
    QString error;
    {
        QSqlDatabase db = QSqlDatabase::contains(name) ? QSqlDatabase::database(name)
                                                       : QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
        if (!db.isOpen()) {
            db.setHostName(url.host());
            db.setPort(url.port(5432));
            db.setUserName(url.userName());
            db.setPassword(url.password());
            db.setDatabaseName(url.path().mid(1));
            if (!db.open())
                return QStringLiteral("cannot reach the test PostgreSQL at %1 (start it with scripts/pgtest start): %2")
                    .arg(postgresUrl(), db.lastError().text());
        }
        QSqlQuery q(db);
        if (!q.exec(sql))
            error = q.lastError().text();
    }
    return error;
}

// A fresh, empty database on the test server: its URL, or empty with *error set.
inline QString freshPostgresDatabase(QString *error)
{
    static QAtomicInteger<int> counter;
    const QString name = QStringLiteral("t_%1_%2_%3")
                             .arg(QCoreApplication::applicationPid())
                             .arg(counter.fetchAndAddRelaxed(1))
                             .arg(QUuid::createUuid().toString(QUuid::Id128).left(8));
    *error = postgresAdmin(QStringLiteral("CREATE DATABASE %1").arg(name));
    if (!error->isEmpty())
        return {};
    QUrl url(postgresUrl());
    url.setPath(u'/' + name);
    return url.toString();
}

// Where a workspace called `name` lives for this run: a file in `dir` on SQLite, a
// new database on PostgreSQL (each call: another database).
inline QString workspaceLocation(const QTemporaryDir &dir, const QString &name, QString *error)
{
    if (!onPostgres())
        return dir.filePath(name);
    return freshPostgresDatabase(error);
}

} // namespace meterdesk::test
