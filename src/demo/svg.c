/* SPDX-License-Identifier: MIT */
#include "svg.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>

void svg_begin(FILE *f, int width, int height)
{
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n",
		width, height, width, height);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width,
		height);
}

int svg_end(FILE *f)
{
	fputs("</svg>\n", f);
	return ferror(f) || fflush(f) == EOF ? -EIO : 0;
}

void svg_escape(FILE *f, const char *text)
{
	static const char *const entity[UCHAR_MAX + 1] = {
	    ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&apos;"};

	for (const char *p = text; *p; p++) {
		const char *e = entity[(unsigned char)*p];

		if (e)
			fputs(e, f);
		else
			fputc(*p, f);
	}
}

void svg_text(FILE *f, double x, double y, int size, const char *anchor, const char *fill,
	      bool bold, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\" fill=\"%s\"%s>",
		x, y, size, anchor, fill, bold ? " font-weight=\"bold\"" : "");
	svg_escape(f, buf);
	fputs("</text>\n", f);
}

void svg_line(FILE *f, const char *cls, double x1, double y1, double x2, double y2,
	      const char *stroke, double width, const char *dash)
{
	fputs("<line", f);
	if (cls)
		fprintf(f, " class=\"%s\"", cls);
	fprintf(
	    f,
	    " x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"%.2f\"",
	    x1, y1, x2, y2, stroke, width);
	if (dash)
		fprintf(f, " stroke-dasharray=\"%s\"", dash);
	fputs("/>\n", f);
}

void svg_rect(FILE *f, const char *cls, double x, double y, double w, double h, const char *fill,
	      double opacity)
{
	fputs("<rect", f);
	if (cls)
		fprintf(f, " class=\"%s\"", cls);
	fprintf(f, " x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"", x, y,
		w < 0 ? 0 : w, h < 0 ? 0 : h, fill);
	if (opacity < 1)
		fprintf(f, " fill-opacity=\"%.2f\"", opacity);
	fputs("/>\n", f);
}

void svg_circle(FILE *f, double cx, double cy, double r, const char *fill)
{
	fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"%s\"/>\n", cx, cy, r, fill);
}
