#ifndef LANTERN_CNCURSES_SHIM_H
#define LANTERN_CNCURSES_SHIM_H
/* Wide-character ncurses. Swift cannot import curses' expression macros (A_BOLD, ACS_*, getmaxyx)
   or the global stdscr in Swift 6 mode, so they are wrapped here as static inline functions. */
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <ncursesw/curses.h>

static inline WINDOW *lc_stdscr(void) { return stdscr; }
static inline void lc_getmaxyx(WINDOW *w, int *y, int *x) { int a, b; getmaxyx(w, a, b); *y = a; *x = b; }
static inline unsigned int lc_a_bold(void) { return (unsigned int)A_BOLD; }
static inline unsigned int lc_a_reverse(void) { return (unsigned int)A_REVERSE; }
static inline unsigned int lc_a_underline(void) { return (unsigned int)A_UNDERLINE; }
static inline unsigned int lc_a_dim(void) { return (unsigned int)A_DIM; }
static inline unsigned int lc_a_normal(void) { return (unsigned int)A_NORMAL; }
static inline unsigned int lc_color_pair(int n) { return (unsigned int)COLOR_PAIR(n); }
static inline int lc_attron(unsigned int a) { return attron((int)a); }
static inline int lc_attroff(unsigned int a) { return attroff((int)a); }
static inline int lc_attrset(unsigned int a) { return attrset((int)a); }
static inline chtype lc_acs_hline(void) { return ACS_HLINE; }
static inline chtype lc_acs_vline(void) { return ACS_VLINE; }
static inline int lc_key_resize(void) { return KEY_RESIZE; }
static inline int lc_key_mouse(void) { return KEY_MOUSE; }
/* Mouse wheel: button 4 is up, button 5 down (BUTTON5 exists only with the extended mouse ABI). */
static inline mmask_t lc_wheel_up(void) { return BUTTON4_PRESSED; }
#if defined(BUTTON5_PRESSED)
static inline mmask_t lc_wheel_down(void) { return BUTTON5_PRESSED; }
#else
static inline mmask_t lc_wheel_down(void) { return 0; }
#endif
#endif
