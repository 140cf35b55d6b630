-- Every notification kind of the third round (issues 19, 20, 22), added at
-- once so each capability writes its notices without a migration of its own
-- rewriting this check (the last such rewrite would drop the others' kinds).
-- The Go vocabulary is lending.NoticeKinds; contact.TestNoticeKindsMatchTheSchema
-- keeps the two the same.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('repayment_reminder',
    'repayment_received', 'repayment_failed', 'overdue_notice', 'compensation_paid', 'compensation_received',
    'written_off', 'recovery_received', 'withdrawal_succeeded', 'withdrawal_reversed', 'registration_attempted',
    'disbursed', 'listing_expired', 'bid_released', 'recharge_succeeded', 'coupon_granted', 'coupon_paid',
    'transfer_sold', 'transfer_bought', 'transfer_lapsed', 'bonus_payment_failed'));
