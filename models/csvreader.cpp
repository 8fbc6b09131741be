#include "csvreader.h"

#include <QIODevice>

namespace meterdesk {

namespace {
constexpr qsizetype ChunkBytes = qsizetype(64) * 1024;
} // namespace

bool CsvReader::fill()
{
    if (m_eof)
        return false;
    if (m_pos > 0) {
        m_buffer.remove(0, m_pos);
        m_pos = 0;
    }
    const qsizetype before = m_buffer.size();
    m_buffer.resize(before + ChunkBytes);
    const qint64 got = m_device.read(m_buffer.data() + before, ChunkBytes);
    m_buffer.resize(before + qMax<qint64>(0, got));
    if (got <= 0) {
        m_eof = true;
        return false;
    }
    return true;
}

bool CsvReader::next(CsvRecord &record)
{
    if (!m_fatal.isEmpty())
        return false;
    if (!m_started) {
        m_started = true;
        while (m_buffer.size() < 3 && fill()) {
        }
        if (m_buffer.startsWith("\xEF\xBB\xBF")) {
            m_pos = 3;
            m_consumed = 3;
        }
    }
    auto get = [this]() -> int {
        if (m_pos >= m_buffer.size() && !fill())
            return -1;
        ++m_consumed;
        return static_cast<unsigned char>(m_buffer[m_pos++]);
    };
    auto peek = [this]() -> int {
        if (m_pos >= m_buffer.size() && !fill())
            return -1;
        return static_cast<unsigned char>(m_buffer[m_pos]);
    };

    enum class State { StartCell, Unquoted, Quoted, AfterQuote };
    record.cells.clear();
    record.error.clear();
    record.line = m_line;
    const qint64 start = m_consumed;
    State state = State::StartCell;
    CsvRecord::Cell cell;
    int c = get();
    if (c < 0)
        return false;
    auto endLine = [&](int ch) {
        if (ch == '\r' && peek() == '\n')
            get();
        ++m_line;
    };
    for (;; c = get()) {
        if (m_consumed - start > MaxRecordBytes) {
            m_fatal = QStringLiteral("line %1: a record is longer than %2 bytes (a quote left open?)")
                          .arg(record.line)
                          .arg(MaxRecordBytes);
            return false;
        }
        if (c < 0) {
            if (state == State::Quoted)
                record.error = QStringLiteral("a quoted cell is not closed before the end of the file");
            record.cells.append(std::move(cell));
            return true;
        }
        switch (state) {
        case State::StartCell:
            if (c == '"') {
                cell.quoted = true;
                state = State::Quoted;
                break;
            }
            state = State::Unquoted;
            [[fallthrough]];
        case State::Unquoted:
        case State::AfterQuote:
            if (c == ',') {
                record.cells.append(std::move(cell));
                cell = {};
                state = State::StartCell;
            } else if (c == '\r' || c == '\n') {
                endLine(c);
                record.cells.append(std::move(cell));
                return true;
            } else {
                if (state == State::AfterQuote && record.error.isEmpty())
                    record.error = QStringLiteral("a quoted cell must end at a comma or the end of the line");
                cell.text.append(char(c));
            }
            break;
        case State::Quoted:
            if (c == '"') {
                if (peek() == '"') {
                    get();
                    cell.text.append('"');
                } else {
                    state = State::AfterQuote;
                }
            } else {
                if (c == '\n' || (c == '\r' && peek() != '\n'))
                    ++m_line;
                cell.text.append(char(c));
            }
            break;
        }
    }
}

} // namespace meterdesk
