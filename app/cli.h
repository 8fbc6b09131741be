#pragma once

#include <QStringList>

namespace meterdesk {

enum ExitCode { ExitOk = 0, ExitFailure = 1, ExitUsage = 2 };

// The scripting subcommands of DESIGN.md §7 (events, keys, org, import, export). Runs in a
// QCoreApplication; prints results on stdout and one-line errors on stderr.
class Cli
{
public:
    // `positional`: the words after the options ("events", "add", ...).
    static bool handles(const QStringList &positional);
    static int run(const QString &database, const QStringList &positional, const QHash<QString, QString> &options,
                   bool json);
};

} // namespace meterdesk
