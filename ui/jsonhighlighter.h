#pragma once

#include <QRegularExpression>
#include <QSyntaxHighlighter>

namespace meterdesk {

// Colours JSON text (keys, strings, numbers, literals) in a QTextDocument, with
// colours that read on light and dark palettes. GUI thread.
class JsonHighlighter : public QSyntaxHighlighter
{
    Q_OBJECT
public:
    explicit JsonHighlighter(QTextDocument *document);

protected:
    void highlightBlock(const QString &text) override;

private:
    struct Rule
    {
        QRegularExpression pattern;
        QTextCharFormat format;
    };
    QList<Rule> m_rules;
};

} // namespace meterdesk
