#pragma once

#include "usageevent.h"

#include <QDialog>

#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QToolButton;

namespace meterdesk {

class SchemaEditor;
class WorkspaceService;

// The Add / Edit Usage Event form, in Zenskar's order: name, API slug (derived live
// until edited, with reset), root fields (read-only), data schema, order by. Its
// save button stays disabled, saying why, until the form is valid. GUI thread.
class UsageEventForm : public QDialog
{
    Q_OBJECT
public:
    UsageEventForm(WorkspaceService *service, const QString &baseUrl,
                   std::optional<UsageEventDefinition> existing = std::nullopt, QWidget *parent = nullptr);

    UsageEventDefinition definition() const;
    // Why saving is not possible now (empty when it is).
    QString blocker() const { return m_blocker; }

private:
    void nameEdited(const QString &name);
    void slugEdited();
    void validate();
    void save();
    void apply(const UsageEventDefinition &d);

    WorkspaceService *m_service;
    QString m_baseUrl;
    std::optional<UsageEventDefinition> m_existing;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_slug = nullptr;
    QToolButton *m_resetSlug = nullptr;
    QLabel *m_slugError = nullptr;
    QLabel *m_endpoint = nullptr;
    SchemaEditor *m_schema = nullptr;
    QComboBox *m_policy = nullptr;
    QPushButton *m_save = nullptr;
    QLabel *m_reason = nullptr;
    bool m_slugTouched = false;
    bool m_settingSlug = false;
    QString m_blocker;
};

} // namespace meterdesk
