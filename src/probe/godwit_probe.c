/* SPDX-License-Identifier: MIT */
/* godwit-probe: the probe without the CLI around it. */
#include "probe.h"

#include "lib/log.h"

int main(int argc, char **argv)
{
	log_init("godwit-probe", LOG_LVL_INFO);
	return probe_main(argc, argv);
}
