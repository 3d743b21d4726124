/* qr_png.c: a QR code as a PNG file (cli.h): libqrencode makes the symbol
 * (error correction level M, byte mode), libpng writes it in black and white
 * with 8 pixels a module and the 4-module quiet zone the standard asks for. */
#include <errno.h>
#include <png.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"

#define SCALE 8
#define QUIET 4

/* Row y of the image: 0 for a dark pixel, 255 for a light one. */
static void image_row(const QRcode *qr, int size, int y, png_byte *row)
{
    int my = y / SCALE - QUIET;
    for (int x = 0; x < size; x++) {
        int mx = x / SCALE - QUIET;
        int dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width && (qr->data[my * qr->width + mx] & 1);
        row[x] = dark ? 0 : 255;
    }
}

static int write_png(const QRcode *qr, FILE *f, const char *path)
{
    int size = (qr->width + 2 * QUIET) * SCALE;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep row = malloc((size_t)size);
    int rc = png && info && row ? CV_OK : cv_fail(CV_ENOMEM, "out of memory writing %s", path);
    if (!rc && setjmp(png_jmpbuf(png)))
        rc = cv_fail(CV_EIO, "cannot write the PNG %s", path);
    else if (!rc) {
        png_init_io(png, f);
        png_set_IHDR(png, info, (png_uint_32)size, (png_uint_32)size, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (int y = 0; y < size; y++) {
            image_row(qr, size, y, row);
            png_write_row(png, row);
        }
        png_write_end(png, NULL);
    }
    free(row);
    png_destroy_write_struct(&png, &info);
    return rc;
}

int cli_qr_png(const char *text, const char *path)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr)
        return cv_fail(CV_EINVAL, "cannot make a QR code of %zu bytes: %s", strlen(text), strerror(errno));
    FILE *f = fopen(path, "wb");
    int rc = f ? write_png(qr, f, path) : cv_fail(CV_EIO, "cannot create %s: %s", path, strerror(errno));
    if (f && fclose(f) != 0 && !rc)
        rc = cv_fail(CV_EIO, "cannot write %s: %s", path, strerror(errno));
    QRcode_free(qr);
    return rc;
}
