// moescope: the explorer. With no arguments it opens the bundled demo model.
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QIcon>
#include <QPalette>
#include <QStyleFactory>
#include <QTimer>

#include "app/gui/language.h"
#include "app/gui/main_window.h"
#include "app/gui/screenshot.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("MoEScope");
  QApplication::setApplicationName("moescope");
  QApplication::setApplicationDisplayName("MoEScope");
  QApplication::setApplicationVersion(MOESCOPE_VERSION);
  QApplication::setWindowIcon(QIcon(":/icons/moescope.svg"));

  QCommandLineParser parser;
  parser.setApplicationDescription("MoEScope explorer");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument("path", "Model folder, analysis (.h5) or plan (.json); default: the demo model.");
  QCommandLineOption screenshot("screenshot", "Render the main window to FILE.png and exit.", "FILE");
  QCommandLineOption layer("layer", "MoE layer shown (screenshot).", "N", "0");
  QCommandLineOption sequences("sequences", "Calibration sequences of the demo analysis.", "N", "0");
  QCommandLineOption length("length", "Calibration sequence length of the demo analysis.", "L", "0");
  QCommandLineOption language("language", "Interface language (en, zh_CN).", "CODE");
  QCommandLineOption dark("dark", "Use a dark palette (the system palette is followed otherwise).");
  parser.addOptions({screenshot, layer, sequences, length, language, dark});
  parser.process(app);
  if (parser.isSet(dark)) {
    QApplication::setStyle(QStyleFactory::create("Fusion"));
    QPalette p;
    p.setColor(QPalette::Window, QColor(45, 45, 48));
    p.setColor(QPalette::WindowText, QColor(230, 230, 230));
    p.setColor(QPalette::Base, QColor(30, 30, 32));
    p.setColor(QPalette::AlternateBase, QColor(52, 52, 56));
    p.setColor(QPalette::Text, QColor(230, 230, 230));
    p.setColor(QPalette::Button, QColor(55, 55, 58));
    p.setColor(QPalette::ButtonText, QColor(230, 230, 230));
    p.setColor(QPalette::Highlight, QColor(42, 130, 218));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::PlaceholderText, QColor(150, 150, 150));
    p.setColor(QPalette::Mid, QColor(70, 70, 74));
    p.setColor(QPalette::ToolTipBase, QColor(60, 60, 64));
    p.setColor(QPalette::ToolTipText, QColor(230, 230, 230));
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
      p.setColor(QPalette::Disabled, role, QColor(120, 120, 120));
    QApplication::setPalette(p);
  }

  moe::gui::installTranslations(app, parser.value(language));
  moe::gui::MainWindow window;
  if (parser.isSet(screenshot)) {
    moe::gui::ScreenshotOptions options;
    options.path = parser.value(screenshot);
    options.layer = parser.value(layer).toInt();
    moe::gui::scheduleScreenshot(&window, options);
  }
  window.show();
  const QStringList args = parser.positionalArguments();
  QTimer::singleShot(0, &window, [&] {
    if (args.isEmpty()) window.openDemo(parser.value(sequences).toInt(), parser.value(length).toInt());
    else window.openPath(QFileInfo(args.front()).absoluteFilePath());
  });
  return QApplication::exec();
}
