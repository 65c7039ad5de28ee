#include "simulator/manual_clock.h"
