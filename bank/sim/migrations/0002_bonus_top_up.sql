-- The bonus account's top-up from the platform's own card (bank.TopUpRequest).
ALTER TABLE requests DROP CONSTRAINT requests_kind_check;
ALTER TABLE requests ADD CONSTRAINT requests_kind_check CHECK (kind IN (
    'open_account', 'change_card', 'recharge', 'withdrawal', 'freeze', 'unfreeze',
    'transfer', 'batch', 'deposit', 'bonus_top_up'));
ALTER TABLE movements DROP CONSTRAINT movements_type_check;
ALTER TABLE movements ADD CONSTRAINT movements_type_check CHECK (type IN (
    'recharge', 'withdrawal', 'withdrawal_fee', 'withdrawal_reversal', 'freeze', 'unfreeze',
    'transfer', 'batch', 'deposit', 'bonus_top_up'));
