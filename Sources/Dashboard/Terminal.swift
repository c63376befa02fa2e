import CNCurses
import Foundation
import Synchronization

/// The signal that asked the dashboard to stop (SIGINT / SIGTERM), 0 when none. Written by a signal handler,
/// so it is a lock-free atomic.
private let stopSignal = Atomic<Int32>(0)

/// The one owner of ncurses: set-up, colours, drawing styled rows, reading keys, and putting the terminal
/// back on exit, on Ctrl-C / SIGTERM and on a crash signal.
public final class Terminal {
    /// Whether the terminal draws Unicode boxes and bars or ASCII.
    public let glyphs: Glyphs
    /// Whether styles are colours (false: bold / reverse / underline only).
    public let colour: Bool
    private var attributes: [TextStyle: UInt32] = [:]
    private var active = false

    /// Sets the terminal up. `ascii` forces ASCII glyphs; by default the locale decides (UTF-8 or not).
    /// Colours are off when `NO_COLOR` is set or the terminal has none.
    public init(ascii: Bool = false) throws(DashboardError) {
        setlocale(LC_ALL, "")
        Terminal.installSignalHandlers()
        guard initscr() != nil else { throw DashboardError(.terminal, "cannot initialise the terminal (TERM?)") }
        active = true
        cbreak()
        noecho()
        nonl()
        curs_set(0)
        keypad(lc_stdscr(), true)
        set_escdelay(25)
        timeout(100)
        mouseinterval(0)
        mousemask(lc_wheel_up() | lc_wheel_down(), nil)

        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        glyphs = ascii || codeset.uppercased() != "UTF-8" ? .ascii : .unicode
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        colour = !noColor && has_colors()
        if colour {
            start_color()
            use_default_colors()
        }
        attributes = Terminal.attributes(colour: colour)
    }

    deinit { restore() }

    /// Puts the terminal back as it was (idempotent).
    public func restore() {
        guard active else { return }
        active = false
        endwin()
    }

    /// The terminal size in cells.
    public var size: (width: Int, height: Int) {
        var rows: Int32 = 0
        var cols: Int32 = 0
        lc_getmaxyx(lc_stdscr(), &rows, &cols)
        return (Int(cols), Int(rows))
    }

    /// SIGINT or SIGTERM arrived (the caller exits and restores).
    public var stopRequested: Int32? {
        let signal = stopSignal.load(ordering: .relaxed)
        return signal == 0 ? nil : signal
    }

    /// Draws a whole frame; ncurses sends only the cells that changed.
    public func draw(_ lines: [StyledLine]) {
        let (width, height) = size
        for (y, line) in lines.prefix(height).enumerated() {
            move(Int32(y), 0)
            for span in line.fitted(to: width).spans where !span.text.isEmpty {
                lc_attrset(attributes[span.style] ?? lc_a_normal())
                addstr(span.text)
            }
        }
        lc_attrset(lc_a_normal())
        if lines.count < height {
            move(Int32(lines.count), 0)
            clrtobot()
        }
        refresh()
    }

    /// Makes the next `draw` repaint every cell (Ctrl-L, after something scribbled on the screen).
    public func forceFullRedraw() { clearok(lc_stdscr(), true) }

    /// The next key, or nil when none came within the input timeout (100 ms).
    public func readKey() -> Key? {
        var character: wint_t = 0
        let result = get_wch(&character)
        if result == ERR { return nil }
        if result == KEY_CODE_YES {
            switch Int32(character) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_NPAGE: return .pageDown
            case KEY_PPAGE: return .pageUp
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_BTAB: return .backTab
            case KEY_ENTER: return .enter
            case KEY_BACKSPACE: return .backspace
            case lc_key_resize(): return .resize
            case lc_key_mouse(): return mouse()
            default: return nil
            }
        }
        switch character {
        case 10, 13: return .enter
        case 27: return .escape
        case 9: return .tab
        case 8, 127: return .backspace
        default:
            guard let scalar = Unicode.Scalar(UInt32(character)) else { return nil }
            return .character(Character(scalar))
        }
    }

    private func mouse() -> Key? {
        var event = MEVENT()
        guard getmouse(&event) == OK else { return nil }
        if event.bstate & lc_wheel_up() != 0 { return .wheelUp }
        if lc_wheel_down() != 0, event.bstate & lc_wheel_down() != 0 { return .wheelDown }
        return nil
    }

    /// Style → attributes. Colour pairs use the terminal's default background (-1).
    private static func attributes(colour: Bool) -> [TextStyle: UInt32] {
        let bold = lc_a_bold(), reverse = lc_a_reverse(), underline = lc_a_underline(), dim = lc_a_dim()
        guard colour else {
            return [
                .plain: lc_a_normal(), .dim: dim, .title: reverse | bold, .label: bold, .selected: reverse,
                .tabActive: reverse | bold, .good: lc_a_normal(), .bad: bold, .warn: bold | underline,
                .accent: lc_a_normal(), .match: underline,
            ]
        }
        let pairs: [(TextStyle, Int32, Int32)] = [
            (.title, COLOR_WHITE, COLOR_BLUE), (.label, COLOR_CYAN, -1), (.selected, COLOR_BLACK, COLOR_CYAN),
            (.tabActive, COLOR_BLACK, COLOR_YELLOW), (.good, COLOR_GREEN, -1), (.bad, COLOR_RED, -1),
            (.warn, COLOR_YELLOW, -1), (.accent, COLOR_MAGENTA, -1), (.match, COLOR_BLACK, COLOR_GREEN),
        ]
        var map: [TextStyle: UInt32] = [.plain: lc_a_normal(), .dim: dim]
        for (index, (style, fg, bg)) in pairs.enumerated() {
            init_pair(Int16(index + 1), Int16(fg), Int16(bg))
            map[style] = lc_color_pair(Int32(index + 1))
        }
        map[.title]! |= bold
        map[.label]! |= bold
        map[.tabActive]! |= bold
        map[.bad]! |= bold
        return map
    }

    /// SIGINT / SIGTERM set a flag the run loop polls; crash signals restore the terminal first, then
    /// re-raise so the process still dies the way it would have (core dump, exit status).
    private static func installSignalHandlers() {
        for stop in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in stopSignal.store(signal, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            sigaction(stop, &action, nil)
        }
        for crash in [SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE, SIGTRAP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                endwin()
                Glibc.signal(signal, SIG_DFL)
                raise(signal)
            }
            sigemptyset(&action.sa_mask)
            sigaction(crash, &action, nil)
        }
        atexit { endwin() }
    }
}
