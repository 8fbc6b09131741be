#include "cli.h"

#include "apikeys.h"
#include "dataschema.h"
#include "eventexporter.h"
#include "eventimporter.h"
#include "timestamp.h"
#include "workspace.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QTextStream>

#include <cstdio>

namespace meterdesk {

namespace {

QTextStream &out()
{
    static QTextStream s(stdout);
    return s;
}

int fail(const QString &message, int code = ExitFailure)
{
    QTextStream err(stderr);
    err << "meterdesk: " << message << Qt::endl;
    return code;
}

std::optional<QJsonObject> readJsonObject(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(f.read(qint64(4) * 1024 * 1024), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        *error = QStringLiteral("%1 is not a JSON object (%2 at byte %3)")
                     .arg(path, pe.error != QJsonParseError::NoError ? pe.errorString() : QStringLiteral("not an object"))
                     .arg(pe.offset);
        return std::nullopt;
    }
    return doc.object();
}

QString problemsText(const Problems &problems)
{
    QStringList lines;
    for (const Problem &p : problems)
        lines.append(p.pointer.isEmpty() ? p.message : p.pointer + QStringLiteral(": ") + p.message);
    return lines.join(QStringLiteral("; "));
}

int eventsAdd(Workspace &ws, const QHash<QString, QString> &options)
{
    UsageEventDefinition d;
    d.name = options.value(QStringLiteral("name"));
    d.slug = options.value(QStringLiteral("slug"));
    d.policy = UsageEventDefinition::policyFromName(options.value(QStringLiteral("policy"), QStringLiteral("reject")));
    QString error;
    if (options.contains(QStringLiteral("schema"))) {
        const auto schema = readJsonObject(options.value(QStringLiteral("schema")), &error);
        if (!schema)
            return fail(error);
        Problems problems;
        const auto parsed = DataSchema::fromJsonSchema(*schema, &problems);
        if (!parsed)
            return fail(QStringLiteral("the schema is refused: %1").arg(problemsText(problems)));
        d.schema = *parsed;
    } else if (options.contains(QStringLiteral("sample"))) {
        const auto sample = readJsonObject(options.value(QStringLiteral("sample")), &error);
        if (!sample)
            return fail(error);
        d.schema = DataSchema::infer(*sample);
    }
    const Problems problems = ws.createDefinition(d);
    if (!problems.isEmpty())
        return fail(problemsText(problems));
    out() << "created usage event " << d.slug << " (" << d.schema.fields.size() << " fields): POST /usage/" << d.slug
          << Qt::endl;
    return ExitOk;
}

int eventsList(Workspace &ws, bool json)
{
    const auto defs = ws.definitions();
    if (json) {
        QJsonArray array;
        for (const UsageEventDefinition &d : defs) {
            QJsonObject o;
            o[u"name"] = d.name;
            o[u"slug"] = d.slug;
            o[u"table"] = d.tableName();
            o[u"duplicate_policy"] = UsageEventDefinition::policyName(d.policy);
            o[u"schema"] = d.schema.toJsonSchema();
            o[u"rows"] = ws.rowCount(d);
            o[u"created_at"] = Timestamp::toIso(d.createdAtUs);
            array.append(o);
        }
        out() << QJsonDocument(array).toJson(QJsonDocument::Indented);
        return ExitOk;
    }
    if (defs.isEmpty()) {
        out() << "no usage events yet: meterdesk events add --name NAME --sample sample.json" << Qt::endl;
        return ExitOk;
    }
    for (const UsageEventDefinition &d : defs) {
        QStringList fields;
        for (const SchemaField &f : d.schema.fields)
            fields.append(f.path + u':' + FieldTypes::name(f.type));
        out() << d.slug << '\t' << d.name << '\t' << ws.rowCount(d) << " rows\t" << fields.join(u',') << Qt::endl;
    }
    return ExitOk;
}

int keys(Workspace &ws, const QStringList &pos, const QHash<QString, QString> &options, bool json)
{
    const QString verb = pos.value(1);
    QString error;
    if (verb == QLatin1String("create")) {
        const auto created = ApiKeys::create(ws, options.value(QStringLiteral("name")), &error);
        if (!created)
            return fail(error);
        out() << created->key << Qt::endl;
        QTextStream(stderr) << "key " << created->info.id << " (" << created->info.name
                            << ") created; it is shown only now: store it safely." << Qt::endl;
        return ExitOk;
    }
    if (verb == QLatin1String("list")) {
        const auto keys = ApiKeys::list(ws);
        if (json) {
            QJsonArray array;
            for (const ApiKeyInfo &k : keys)
                array.append(QJsonObject{{QStringLiteral("id"), k.id},
                                         {QStringLiteral("name"), k.name},
                                         {QStringLiteral("prefix"), k.prefix},
                                         {QStringLiteral("created_at"), Timestamp::toIso(k.createdAtUs)},
                                         {QStringLiteral("live"), k.live()}});
            out() << QJsonDocument(array).toJson(QJsonDocument::Indented);
            return ExitOk;
        }
        for (const ApiKeyInfo &k : keys)
            out() << k.id << '\t' << k.name << '\t' << k.prefix << "…\t" << Timestamp::toIso(k.createdAtUs) << '\t'
                  << (k.live() ? "live" : "revoked") << Qt::endl;
        return ExitOk;
    }
    if (verb == QLatin1String("revoke")) {
        const qint64 id = pos.value(2).toLongLong(); // checked in Cli::run
        if (!ApiKeys::revoke(ws, id, &error))
            return fail(error);
        out() << "revoked key " << id << Qt::endl;
        return ExitOk;
    }
    return fail(QStringLiteral("keys: create, list or revoke"), ExitUsage);
}

// The --map values ("file_col=field", one per line in the option), or why not.
std::optional<QHash<QString, QString>> columnMapping(const QString &option, QString *error)
{
    QHash<QString, QString> mapping;
    for (const QString &pair : option.split(u'\n', Qt::SkipEmptyParts)) {
        const qsizetype eq = pair.indexOf(u'=');
        if (eq <= 0) {
            *error = QStringLiteral("--map takes FILE_COLUMN=FIELD (FILE_COLUMN= skips a column), got \"%1\"").arg(pair);
            return std::nullopt;
        }
        mapping.insert(pair.left(eq), pair.mid(eq + 1));
    }
    return mapping;
}

int importFile(Workspace &ws, const QStringList &pos, const QHash<QString, QString> &options)
{
    const QString slug = pos.value(1);
    const QString path = pos.value(2);
    const auto definition = ws.definition(slug);
    if (!definition)
        return fail(QStringLiteral("no usage event \"%1\" (see events list)").arg(slug));
    QFile input(path);
    if (!input.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("cannot read %1: %2").arg(path, input.errorString()));
    ImportOptions o;
    o.format = *EventImporter::formatOf(path); // checked in Cli::run
    QString error;
    o.mapping = *columnMapping(options.value(QStringLiteral("map")), &error);
    QSaveFile rejects(options.value(QStringLiteral("rejects")));
    if (options.contains(QStringLiteral("rejects"))) {
        if (!rejects.open(QIODevice::WriteOnly))
            return fail(QStringLiteral("cannot write %1: %2").arg(rejects.fileName(), rejects.errorString()));
        o.rejects = &rejects;
    }
    const ImportSummary summary = EventImporter::run(ws, *definition, input, o);
    if (!summary.error.isEmpty() && summary.rows == 0)
        return fail(QStringLiteral("%1: %2").arg(path, summary.error));
    if (o.rejects && !rejects.commit())
        return fail(QStringLiteral("cannot write %1: %2").arg(rejects.fileName(), rejects.errorString()));
    out() << summary.text() << Qt::endl;
    return summary.clean() ? ExitOk : ExitFailure;
}

int exportRows(Workspace &ws, const QStringList &pos, const QHash<QString, QString> &options, const ExportOptions &o)
{
    const QString slug = pos.value(1);
    const auto definition = ws.definition(slug);
    if (!definition)
        return fail(QStringLiteral("no usage event \"%1\" (see events list)").arg(slug));
    const QString path = options.value(QStringLiteral("output"));
    ExportResult result;
    if (path.isEmpty() || path == QLatin1String("-")) {
        QFile stdOut;
        out().flush();
        if (!stdOut.open(stdout, QIODevice::WriteOnly))
            return fail(QStringLiteral("cannot write to stdout"));
        result = EventExporter::run(ws, *definition, stdOut, o);
    } else {
        // Written beside and renamed at the end: a failed export leaves no half file.
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly))
            return fail(QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
        result = EventExporter::run(ws, *definition, file, o);
        if (result.error.isEmpty() && !file.commit())
            result.error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        if (result.error.isEmpty())
            QTextStream(stderr) << "exported " << result.rows << " rows of " << slug << " to " << path << Qt::endl;
    }
    if (!result.error.isEmpty())
        return fail(result.error);
    return ExitOk;
}

// Checks the export options before anything is opened.
std::optional<ExportOptions> exportOptions(const QHash<QString, QString> &options, QString *error)
{
    ExportOptions o;
    const QString output = options.value(QStringLiteral("output"));
    QString format = options.value(QStringLiteral("format"));
    if (format.isEmpty())
        format = output.endsWith(QLatin1String(".ndjson"), Qt::CaseInsensitive)
                || output.endsWith(QLatin1String(".jsonl"), Qt::CaseInsensitive)
            ? QStringLiteral("ndjson")
            : QStringLiteral("csv");
    const auto parsed = EventExporter::formatFromName(format);
    if (!parsed) {
        *error = QStringLiteral("--format is csv or ndjson");
        return std::nullopt;
    }
    o.format = *parsed;
    o.customerId = options.value(QStringLiteral("customer"));
    for (const QString &name : {QStringLiteral("from"), QStringLiteral("to")}) {
        if (!options.contains(name))
            continue;
        const Timestamp::Parsed t = Timestamp::fromUserInput(options.value(name));
        if (!t.micros) {
            *error = QStringLiteral("--%1: %2").arg(name, t.error);
            return std::nullopt;
        }
        (name == QLatin1String("from") ? o.fromUs : o.toUs) = t.micros;
    }
    return o;
}

} // namespace

bool Cli::handles(const QStringList &positional)
{
    static const QStringList verbs = {QStringLiteral("events"), QStringLiteral("keys"), QStringLiteral("org"),
                                      QStringLiteral("import"), QStringLiteral("export")};
    return !positional.isEmpty() && verbs.contains(positional.first());
}

int Cli::run(const QString &database, const QStringList &pos, const QHash<QString, QString> &options, bool json)
{
    const QString noun = pos.value(0);
    const QString verb = pos.value(1);
    if (noun == QLatin1String("events") && !QStringList{QStringLiteral("add"), QStringLiteral("list"), QStringLiteral("remove")}.contains(verb))
        return fail(QStringLiteral("events: add, list or remove"), ExitUsage);
    if (noun == QLatin1String("events") && verb == QLatin1String("remove") && pos.size() < 3)
        return fail(QStringLiteral("events remove needs a slug"), ExitUsage);
    // Every usage error is found before the workspace is opened: a mistyped command
    // must not create a database file.
    if (noun == QLatin1String("events") && verb == QLatin1String("add")) {
        if (options.value(QStringLiteral("name")).isEmpty())
            return fail(QStringLiteral("events add needs --name"), ExitUsage);
        const QString policy = options.value(QStringLiteral("policy"), QStringLiteral("reject"));
        if (policy != QLatin1String("reject") && policy != QLatin1String("overwrite"))
            return fail(QStringLiteral("--policy is reject or overwrite"), ExitUsage);
    }
    if (noun == QLatin1String("keys")) {
        if (!QStringList{QStringLiteral("create"), QStringLiteral("list"), QStringLiteral("revoke")}.contains(verb))
            return fail(QStringLiteral("keys: create, list or revoke"), ExitUsage);
        bool ok = false;
        pos.value(2).toLongLong(&ok);
        if (verb == QLatin1String("revoke") && !ok)
            return fail(QStringLiteral("keys revoke needs a key id (see keys list)"), ExitUsage);
    }
    QString error;
    std::optional<ExportOptions> exporting;
    if (noun == QLatin1String("import")) {
        if (pos.size() != 3)
            return fail(QStringLiteral("import needs a slug and a file: import SLUG FILE.csv|FILE.ndjson"), ExitUsage);
        if (!EventImporter::formatOf(pos.value(2)))
            return fail(QStringLiteral("import reads .csv or .ndjson files (from the extension): %1").arg(pos.value(2)),
                        ExitUsage);
        if (!columnMapping(options.value(QStringLiteral("map")), &error))
            return fail(error, ExitUsage);
        if (!QFileInfo(pos.value(2)).isReadable())
            return fail(QStringLiteral("cannot read %1").arg(pos.value(2)));
    }
    if (noun == QLatin1String("export")) {
        if (pos.size() != 2)
            return fail(QStringLiteral("export needs a slug: export SLUG [--format csv|ndjson] [--output FILE]"), ExitUsage);
        exporting = exportOptions(options, &error);
        if (!exporting)
            return fail(error, ExitUsage);
    }

    auto ws = Workspace::open(database, &error);
    if (!ws)
        return fail(error);
    if (noun == QLatin1String("org")) {
        out() << ws->organisation() << Qt::endl;
        return ExitOk;
    }
    if (noun == QLatin1String("keys"))
        return keys(*ws, pos, options, json);
    if (noun == QLatin1String("import"))
        return importFile(*ws, pos, options);
    if (noun == QLatin1String("export"))
        return exportRows(*ws, pos, options, *exporting);
    if (verb == QLatin1String("add"))
        return eventsAdd(*ws, options);
    if (verb == QLatin1String("list"))
        return eventsList(*ws, json);
    if (!ws->removeDefinition(pos.value(2), &error))
        return fail(error);
    out() << "removed usage event " << pos.value(2) << " and its table" << Qt::endl;
    return ExitOk;
}

} // namespace meterdesk
