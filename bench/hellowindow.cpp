// Baseline for bench/gui: the smallest Qt Widgets window (the floor of Qt's own
// start-up and memory on this machine).
#include <QApplication>
#include <QLabel>
#include <QMainWindow>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QMainWindow window;
    window.setWindowTitle(QStringLiteral("hello-baseline"));
    window.setCentralWidget(new QLabel(QStringLiteral("hello"), &window));
    window.resize(1100, 700);
    window.show();
    return app.exec();
}
