/* placeholder, replaced below */
#include <criterion/criterion.h>
Test(fire, placeholder) { cr_assert(1); }
