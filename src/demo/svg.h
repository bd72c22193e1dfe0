/* SPDX-License-Identifier: MIT */
/* svg: a few SVG elements written straight to a FILE; text is always escaped.
 * No dependencies; enough for charts (lines, rectangles, circles, text). */
#ifndef GODWIT_DEMO_SVG_H
#define GODWIT_DEMO_SVG_H

#include <stdbool.h>
#include <stdio.h>

/* <svg> with a white background and sans-serif text. */
void svg_begin(FILE *f, int width, int height);
/* </svg>; -EIO when anything failed to write. */
int svg_end(FILE *f);
/* text with & < > " ' escaped */
void svg_escape(FILE *f, const char *text);
/* anchor: "start", "middle" or "end"; the text is printf-formatted, then escaped. */
void svg_text(FILE *f, double x, double y, int size, const char *anchor, const char *fill,
	      bool bold, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* cls may be NULL; dash NULL for a solid line */
void svg_line(FILE *f, const char *cls, double x1, double y1, double x2, double y2,
	      const char *stroke, double width, const char *dash);
void svg_rect(FILE *f, const char *cls, double x, double y, double w, double h, const char *fill,
	      double opacity);
void svg_circle(FILE *f, double cx, double cy, double r, const char *fill);

#endif
