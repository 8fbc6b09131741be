// The composition root: picks GUI, headless or a scripting subcommand, and wires
// the layers together. No domain rule lives here.
#include "cli.h"
#include "desktopapp.h"
#include "headless.h"
#include "workspace.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QGuiApplication>
#include <QTextStream>

#include <cstdio>
#include <memory>

using namespace meterdesk;

namespace {

const char *const kHelpTail = R"(
Modes:
  meterdesk                                 open the desktop app
  meterdesk --headless [--listen HOST:PORT] run the ingestion endpoint only; prints
                                            "listening on http://HOST:PORT" when ready;
                                            SIGINT/SIGTERM drain, commit and exit 0;
                                            --tls-cert FILE --tls-key FILE serve HTTPS,
                                            --io-threads N sets the HTTP I/O threads
Subcommands:
  events add --name N [--slug S] [--policy reject|overwrite] (--schema FILE | --sample FILE)
  events list [--json]
  events remove SLUG
  keys create [--name N]        prints the new key once
  keys list [--json]
  keys revoke ID
  org                           prints the organisation UUID (the `organisation` header)
  import SLUG FILE.csv|FILE.ndjson [--map FILE_COLUMN=FIELD ...] [--rejects OUT.csv]
                                stores the file's valid rows (format from the extension) and
                                prints stored / duplicates / conflicts / rejected with each
                                problem row's line; exit 1 when any row was not stored
  export SLUG [--format csv|ndjson] [--output FILE] [--customer C] [--from T] [--to T]
                                streams the rows, oldest first, to stdout (or FILE) in the
                                form import reads back; --from inclusive, --to exclusive

Exit codes: 0 ok, 1 failure, 2 usage error.
)";

void addOptions(QCommandLineParser &p)
{
    p.setApplicationDescription(QStringLiteral("Meterdesk: a local usage-event ingestion endpoint, store and console."));
    p.addHelpOption();
    p.addVersionOption();
    p.addOption({QStringLiteral("database"), QStringLiteral("Workspace database: a SQLite file, or postgresql://user[:password]@host[:port]/dbname "
                                                                "(or set MDK_DATABASE). Default: %1.")
                                                 .arg(Workspace::defaultLocation()),
                 QStringLiteral("PATH")});
    p.addOption({QStringLiteral("headless"), QStringLiteral("Run the endpoint without a window.")});
    p.addOption({QStringLiteral("listen"), QStringLiteral("Endpoint address (default 127.0.0.1:8080; port 0 picks one)."),
                 QStringLiteral("HOST:PORT")});
    p.addOption({QStringLiteral("io-threads"), QStringLiteral("HTTP I/O threads of the endpoint (default: one per core)."),
                 QStringLiteral("N")});
    p.addOption({QStringLiteral("tls-cert"), QStringLiteral("Serve HTTPS: the PEM certificate (chain) file; needs --tls-key."),
                 QStringLiteral("FILE")});
    p.addOption({QStringLiteral("tls-key"), QStringLiteral("Serve HTTPS: the PEM private key file; needs --tls-cert."),
                 QStringLiteral("FILE")});
    p.addOption({QStringLiteral("name"), QStringLiteral("Name for events add / keys create."), QStringLiteral("N")});
    p.addOption({QStringLiteral("slug"), QStringLiteral("API slug for events add (default: derived from the name)."),
                 QStringLiteral("S")});
    p.addOption({QStringLiteral("schema"), QStringLiteral("JSON Schema file of data for events add."), QStringLiteral("FILE")});
    p.addOption({QStringLiteral("sample"), QStringLiteral("Sample data JSON to infer the schema from."), QStringLiteral("FILE")});
    p.addOption({QStringLiteral("policy"), QStringLiteral("Duplicate policy: reject (default) or overwrite."),
                 QStringLiteral("P")});
    p.addOption({QStringLiteral("json"), QStringLiteral("Machine-readable output for list commands.")});
    p.addOption({QStringLiteral("map"), QStringLiteral("import: a file column's field (repeatable; COLUMN= skips it)."),
                 QStringLiteral("COLUMN=FIELD")});
    p.addOption({QStringLiteral("rejects"), QStringLiteral("import: write the rows not stored, with a reason, to this CSV."),
                 QStringLiteral("FILE")});
    p.addOption({QStringLiteral("format"), QStringLiteral("export: csv (default) or ndjson."), QStringLiteral("F")});
    p.addOption({QStringLiteral("output"), QStringLiteral("export: write to FILE instead of stdout."), QStringLiteral("FILE")});
    p.addOption({QStringLiteral("customer"), QStringLiteral("export: only this customer_id."), QStringLiteral("C")});
    p.addOption({QStringLiteral("from"), QStringLiteral("export: from this time (inclusive)."), QStringLiteral("T")});
    p.addOption({QStringLiteral("to"), QStringLiteral("export: up to this time (exclusive)."), QStringLiteral("T")});
    p.addPositionalArgument(QStringLiteral("command"), QStringLiteral("events | keys | org | import | export (see below)"));
}

} // namespace

int main(int argc, char *argv[])
{
    // Before anything asks QStandardPaths (the --help text names the default database).
    QCoreApplication::setApplicationName(QStringLiteral("meterdesk"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MDK_VERSION));
    QStringList args;
    for (int i = 0; i < argc; ++i)
        args.append(QString::fromLocal8Bit(argv[i]));

    QCommandLineParser parser;
    addOptions(parser);
    const bool parsed = parser.parse(args);
    const QStringList positional = parser.positionalArguments();
    const bool wantsGui = parsed && !parser.isSet(QStringLiteral("headless")) && positional.isEmpty()
        && !parser.isSet(QStringLiteral("help")) && !parser.isSet(QStringLiteral("version"));

    std::unique_ptr<QCoreApplication> app;
    if (wantsGui) {
        app = std::make_unique<QApplication>(argc, argv);
        QGuiApplication::setDesktopFileName(QStringLiteral("dev.meterdesk.Meterdesk")); // Wayland: window <-> .desktop
    } else {
        app = std::make_unique<QCoreApplication>(argc, argv);
    }

    QTextStream err(stderr);
    if (!parsed) {
        err << "meterdesk: " << parser.errorText() << " (see --help)" << Qt::endl;
        return ExitUsage;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText() << kHelpTail;
        return ExitOk;
    }
    if (parser.isSet(QStringLiteral("version"))) {
        QTextStream(stdout) << "meterdesk " << MDK_VERSION << Qt::endl;
        return ExitOk;
    }
    // MDK_DATABASE keeps a PostgreSQL password off the command line.
    const QString database = parser.isSet(QStringLiteral("database"))
        ? parser.value(QStringLiteral("database"))
        : qEnvironmentVariable("MDK_DATABASE", Workspace::defaultLocation());
    if (!positional.isEmpty()) {
        if (!Cli::handles(positional)) {
            err << "meterdesk: unknown command \"" << positional.first() << "\" (see --help)" << Qt::endl;
            return ExitUsage;
        }
        QHash<QString, QString> options;
        for (const QString &name : {QStringLiteral("name"), QStringLiteral("slug"), QStringLiteral("schema"),
                                    QStringLiteral("sample"), QStringLiteral("policy"), QStringLiteral("rejects"),
                                    QStringLiteral("format"), QStringLiteral("output"), QStringLiteral("customer"),
                                    QStringLiteral("from"), QStringLiteral("to")})
            if (parser.isSet(name))
                options.insert(name, parser.value(name));
        if (parser.isSet(QStringLiteral("map")))
            options.insert(QStringLiteral("map"), parser.values(QStringLiteral("map")).join(u'\n'));
        return Cli::run(database, positional, options, parser.isSet(QStringLiteral("json")));
    }
    const QString listen = parser.value(QStringLiteral("listen"));
    EndpointLimits endpoint;
    if (parser.isSet(QStringLiteral("io-threads"))) {
        bool ok = false;
        endpoint.ioThreads = parser.value(QStringLiteral("io-threads")).toInt(&ok);
        if (!ok || endpoint.ioThreads < 1 || endpoint.ioThreads > 64) {
            err << "meterdesk: --io-threads takes a number from 1 to 64" << Qt::endl;
            return ExitUsage;
        }
    }
    endpoint.tlsCertFile = parser.value(QStringLiteral("tls-cert"));
    endpoint.tlsKeyFile = parser.value(QStringLiteral("tls-key"));
    if (endpoint.tlsCertFile.isEmpty() != endpoint.tlsKeyFile.isEmpty()) {
        err << "meterdesk: HTTPS needs both --tls-cert FILE and --tls-key FILE" << Qt::endl;
        return ExitUsage;
    }
    if (!wantsGui)
        return runHeadless(database, listen, endpoint);
    return runGui(database, listen);
}
