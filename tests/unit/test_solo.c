/* test_solo.c: the solo engine cuts a block when full, or when the interval
 * has passed with something pending, and never cuts an empty block. */
#include "check.h"
#include "consensus/solo.h"

int main(void)
{
    cv_solo s;
    cv_solo_init(&s, 200, 100, 1000);
    cv_solo_decision d = cv_solo_step(&s, 1000, 0);
    CHECK(!d.cut && d.wake_ms > 1000);
    d = cv_solo_step(&s, 1050, 5);
    CHECK(!d.cut && d.wake_ms == 1200); /* pending: wait for the interval */
    d = cv_solo_step(&s, 1100, 100);
    CHECK(d.cut); /* full block: cut at once */
    d = cv_solo_step(&s, 1150, 3);
    CHECK(!d.cut && d.wake_ms == 1300);
    d = cv_solo_step(&s, 1300, 3);
    CHECK(d.cut); /* interval passed with transactions pending */
    d = cv_solo_step(&s, 5000, 0);
    CHECK(!d.cut); /* idle: never an empty block */
    d = cv_solo_step(&s, 5001, 1);
    CHECK(d.cut); /* first transaction after an idle spell: no extra wait */
    d = cv_solo_step(&s, 5002, 1);
    CHECK(!d.cut && d.wake_ms == 5201);
    return check_done();
}
