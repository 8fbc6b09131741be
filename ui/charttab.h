#pragma once

#include "aggregate.h"

#include <QElapsedTimer>
#include <QHash>
#include <QWidget>

class QChart;
class QChartView;
class QComboBox;
class QDateTimeEdit;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QTableView;
class QTimer;

namespace meterdesk {

class AggregateModel;

// The Chart tab (meter preview, docs/METERS.md): one aggregate of a usage event's
// rows per customer and per window, as a Qt Charts line chart (bars for a single
// window) with the exact numbers in a table below; CSV and PNG export. Runs on
// AggregateModel's worker thread; re-runs live as rows arrive (at most once per
// LiveInterval, never two at once) while the tab is shown. GUI thread.
class ChartTab : public QWidget
{
    Q_OBJECT
public:
    enum class Range { Last24Hours, Last7Days, Last30Days, ThisMonth, Last12Months, AllTime, Custom };
    enum class Customers { All, Top, Picked };
    static constexpr int LiveInterval = 500; // ms
    static constexpr int MaxSeries = 20;     // lines drawn; the table holds every customer

    explicit ChartTab(const QString &workspaceLocation, QWidget *parent = nullptr);
    ~ChartTab() override;

    void showDefinition(const UsageEventDefinition &definition);
    AggregateModel *model() const { return m_model; }
    QChart *chart() const { return m_chart; }
    QChartView *chartView() const { return m_view; }
    QTableView *table() const { return m_table; }

    // The query the controls describe now (range presets resolved against the clock).
    Aggregate::Query currentQuery() const;
    // A run is due or in flight (debounce, live timer or the worker).
    bool isBusy() const;
    bool exportCsv(const QString &path, QString *error = nullptr) const;
    bool exportPng(const QString &path, QString *error = nullptr) const;

public slots:
    void rowsCommitted(); // the endpoint stored rows for this usage event
    void rerun();         // soon (changes of several controls coalesce)
    void copyTable();     // the selected cells, or the whole table, as TSV

signals:
    void updated(); // the chart and the table show a new answer

protected:
    void showEvent(QShowEvent *event) override;

private:
    struct Choices
    {
        QString field;
        bool fieldSet = false;
        Aggregate::Function function = Aggregate::Function::Sum;
        Aggregate::Window window = Aggregate::Window::Day;
        QString zone;
        Range range = Range::AllTime;
        Customers customers = Customers::Top;
        int topN = 10;
        QString picked;
    };
    void fillFields();
    void updateFunctions();
    void updateCustomerControls();
    void applyChoices(const Choices &c);
    Choices choices() const;
    void runNow();
    void liveTick();
    void scheduleLive();
    void showResult();
    void showFailure(const QString &error);
    void rebuildChart();
    QString chartTitle() const;
    void onExportCsv();
    void onExportPng();

    AggregateModel *m_model = nullptr;
    UsageEventDefinition m_definition;
    QHash<QString, Choices> m_choicesBySlug; // this session's choices per usage event
    bool m_restoring = false;
    bool m_stale = true;      // rows or controls changed while hidden: run when shown
    bool m_liveAgain = false; // rows arrived during a run
    QTimer *m_debounce = nullptr;
    QTimer *m_live = nullptr;
    QElapsedTimer m_sinceRun; // since the last run started

    QComboBox *m_field = nullptr;
    QComboBox *m_function = nullptr;
    QComboBox *m_window = nullptr;
    QComboBox *m_zone = nullptr;
    QComboBox *m_range = nullptr;
    QDateTimeEdit *m_from = nullptr;
    QDateTimeEdit *m_to = nullptr;
    QComboBox *m_customers = nullptr;
    QSpinBox *m_topN = nullptr;
    QLineEdit *m_picked = nullptr;
    QProgressBar *m_busy = nullptr;
    QLabel *m_error = nullptr;
    QLabel *m_summary = nullptr;
    QStackedWidget *m_stack = nullptr;
    QLabel *m_empty = nullptr;
    QChart *m_chart = nullptr;
    QChartView *m_view = nullptr;
    QTableView *m_table = nullptr;
    QPushButton *m_exportCsv = nullptr;
    QPushButton *m_exportPng = nullptr;
    QPushButton *m_copy = nullptr;
};

} // namespace meterdesk
