/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* png.c - the libpng job: the input (width and height, 32 bits each, then
 * RGBA pixels) encoded to a PNG in memory, then decoded back; the result
 * is the PNG's length (64 bits), the PNG, then the decoded pixels. */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"

intptr_t rl_png_job(void *arg)
{
	struct rl_job *j = arg;
	uint32_t w, h;

	if (j->in_len < 8)
		return j->err = 1;
	memcpy(&w, j->in, 4);
	memcpy(&h, j->in + 4, 4);
	if (!w || !h || j->in_len - 8 != (size_t)w * h * 4)
		return j->err = 1;
	png_image im = { .version = PNG_IMAGE_VERSION, .width = w, .height = h, .format = PNG_FORMAT_RGBA };
	png_alloc_size_t len = 0;
	if (!png_image_write_to_memory(&im, NULL, &len, 0, j->in + 8, 0, NULL))
		return j->err = 2;
	size_t pix = (size_t)w * h * 4;
	uint8_t *out = malloc(8 + len + pix);
	if (!out)
		return j->err = 3;
	if (!png_image_write_to_memory(&im, out + 8, &len, 0, j->in + 8, 0, NULL)) {
		free(out);
		return j->err = 4;
	}
	uint64_t l64 = len;
	memcpy(out, &l64, 8);
	png_image back = { .version = PNG_IMAGE_VERSION };
	if (!png_image_begin_read_from_memory(&back, out + 8, len) || back.width != w || back.height != h) {
		png_image_free(&back);
		free(out);
		return j->err = 5;
	}
	back.format = PNG_FORMAT_RGBA;
	if (!png_image_finish_read(&back, NULL, out + 8 + len, 0, NULL)) {
		png_image_free(&back);
		free(out);
		return j->err = 6;
	}
	j->out = out;
	j->out_len = 8 + len + pix;
	return 0;
}
