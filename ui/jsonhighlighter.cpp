#include "jsonhighlighter.h"

#include <QGuiApplication>
#include <QPalette>

namespace meterdesk {

JsonHighlighter::JsonHighlighter(QTextDocument *document) : QSyntaxHighlighter(document)
{
    const bool dark = QGuiApplication::palette().color(QPalette::Base).lightness() < 128;
    auto format = [](const QColor &color, bool bold = false) {
        QTextCharFormat f;
        f.setForeground(color);
        if (bold)
            f.setFontWeight(QFont::DemiBold);
        return f;
    };
    // Order matters: later rules win, so keys (strings followed by a colon) come last.
    m_rules = {
        {QRegularExpression(QStringLiteral("-?\\b\\d+(\\.\\d+)?([eE][+-]?\\d+)?\\b")),
         format(dark ? QColor(0xb5, 0xce, 0xa8) : QColor(0x09, 0x86, 0x58))},
        {QRegularExpression(QStringLiteral("\\b(true|false|null)\\b")),
         format(dark ? QColor(0x56, 0x9c, 0xd6) : QColor(0x00, 0x00, 0xff))},
        {QRegularExpression(QStringLiteral("\"(?:[^\"\\\\]|\\\\.)*\"")),
         format(dark ? QColor(0xce, 0x91, 0x78) : QColor(0xa3, 0x15, 0x15))},
        {QRegularExpression(QStringLiteral("\"(?:[^\"\\\\]|\\\\.)*\"(?=\\s*:)")),
         format(dark ? QColor(0x9c, 0xdc, 0xfe) : QColor(0x04, 0x51, 0xa5), true)},
    };
}

void JsonHighlighter::highlightBlock(const QString &text)
{
    for (const Rule &rule : std::as_const(m_rules)) {
        auto it = rule.pattern.globalMatch(text);
        while (it.hasNext()) {
            const auto m = it.next();
            setFormat(int(m.capturedStart()), int(m.capturedLength()), rule.format);
        }
    }
}

} // namespace meterdesk
