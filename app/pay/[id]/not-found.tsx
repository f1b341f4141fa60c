import { CheckoutNotFound } from '@/app/_components/checkout-not-found';

export default CheckoutNotFound;
